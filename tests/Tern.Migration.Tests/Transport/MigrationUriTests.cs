using Tern.Migration.Transport;

namespace Tern.Migration.Tests.Transport;

/// <summary>Migration URIs as QEMU writes them, and the error each bad one gets, in the operator's words.</summary>
public sealed class MigrationUriTests
{
    [Theory]
    [InlineData("tcp:127.0.0.1:4444", MigrationScheme.Tcp, "tcp:127.0.0.1:4444")]
    [InlineData("tcp:[::1]:4444", MigrationScheme.Tcp, "tcp:[::1]:4444")]
    [InlineData("unix:/run/tern/migrate.sock", MigrationScheme.Unix, "unix:/run/tern/migrate.sock")]
    [InlineData("unix:relative.sock", MigrationScheme.Unix, "unix:relative.sock")]
    public void A_good_uri_parses_and_prints_as_written(string text, MigrationScheme scheme, string printed)
    {
        var uri = MigrationUri.Parse(text);
        Assert.Equal(scheme, uri.Scheme);
        Assert.Equal(printed, uri.ToString());
    }

    [Fact]
    public void A_unix_uri_names_its_path_and_makes_a_unix_socket_transport()
    {
        var uri = MigrationUri.Parse("unix:/tmp/m.sock");
        Assert.Equal("/tmp/m.sock", uri.SocketPath);
        var transport = Assert.IsType<UnixSocketTransport>(uri.CreateTransport());
        Assert.Equal("unix:/tmp/m.sock", transport.Address);
        Assert.IsType<TcpTransport>(MigrationUri.Parse("tcp:127.0.0.1:1").CreateTransport());
    }

    [Theory]
    [InlineData("", "empty migration URI")]
    [InlineData("exec:cat", "unsupported migration transport 'exec'")]
    [InlineData("rdma:host:1", "Tern speaks tcp:HOST:PORT or unix:PATH")]
    [InlineData("unix:", "has no socket path")]
    [InlineData("unix:/tmp/a\0b", "NUL")]
    [InlineData("tcp:host", "has no port")]
    [InlineData("tcp:host:99999", "is not a port number")]
    public void A_bad_uri_is_refused_with_what_is_wrong(string text, string expected)
    {
        Assert.False(MigrationUri.TryParse(text, out var parsed, out var error));
        Assert.Null(parsed);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void A_socket_path_longer_than_sun_path_is_refused_and_the_longest_that_fits_is_taken()
    {
        string fits = "/" + new string('a', MigrationUri.MaxSocketPathBytes - 1);
        Assert.True(MigrationUri.TryParse("unix:" + fits, out _, out _));

        string tooLong = fits + "b";
        Assert.False(MigrationUri.TryParse("unix:" + tooLong, out _, out var error));
        Assert.Contains("108 bytes", error);
        Assert.Contains("at most 107 bytes", error);

        // Counted in bytes, not characters: 54 two-byte characters are 108 bytes.
        Assert.False(MigrationUri.TryParse("unix:" + new string('é', 54), out _, out error));
        Assert.Contains("is 108 bytes", error);
    }
}
