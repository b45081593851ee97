using BenchmarkDotNet.Running;
using Tern.Bench.Macro;

// `migration` and `machine` run the macro benchmarks (whole migrations and live guests, seconds per measurement),
// which do not fit BenchmarkDotNet's model of many short invocations. Anything else goes to the BenchmarkDotNet
// suites in this assembly: pass --filter '*Name*' to pick some.
if (MacroBenchmarks.IsMacro(args)) return MacroBenchmarks.Run(args);
if (args is ["frames", ..]) return Tern.Bench.Transport.FrameWriteInterleaved.Run(args);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
