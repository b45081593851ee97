global using Xunit;
global using static Tern.Control.Tests.Support.TestCancellation;
