using System.Buffers.Binary;
using Tern.Guest;

namespace Tern.Machine.Tests.Guest;

/// <summary>A guest's RAM as the workload model writes it, without running the guest: what the model tests check.</summary>
internal sealed record ModelledRam(GuestImage Image, WorkloadModel Model, byte[] Ram)
{
    /// <summary>Builds the guest and applies <paramref name="counter"/> writes (plus the vCPU's index) on every vCPU.</summary>
    public static ModelledRam Run(string spec, ulong counter, int vcpus = 2)
    {
        var image = GuestFixtures.Build(spec, vcpus: vcpus);
        var model = new WorkloadModel(image.Layout!);
        byte[] ram = GuestFixtures.Ram(image);
        for (int v = 0; v < vcpus; v++) model.Apply(ram, v, 0, counter + (ulong)v);
        return new ModelledRam(image, model, ram);
    }

    public ulong[] Counters() => Model.ReadCounters(Ram);

    public void SetCounter(int vcpu, ulong counter) =>
        BinaryPrimitives.WriteUInt64LittleEndian(Ram.AsSpan((int)Image.Layout!.Vcpus[vcpu].ControlPage.Value + ControlPage.Counter), counter);
}
