using Xunit;

namespace Tern.Machine.Tests.Guest;

/// <summary>The QEMU tests run one at a time: each guest wants a core to itself, and the machine has two.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class QemuCollection
{
    public const string Name = "qemu";
}
