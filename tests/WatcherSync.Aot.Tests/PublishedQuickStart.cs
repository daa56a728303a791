using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Aot.Tests;

/// <summary>
/// samples/AotQuickStart published once as native AOT (for linux-x64) into a temporary folder, with bin/ and obj/ of
/// every project it builds in that folder too (--artifacts-path), so the publish never touches the checkout's build
/// output that other test projects use.
/// </summary>
public sealed class PublishedQuickStart : IAsyncLifetime
{
    /// <summary>How long the publish may take: the ILCompiler package restore and the native compile and link, on a loaded machine.</summary>
    public static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(15);

    private readonly string _work = Directory.CreateTempSubdirectory("watchersync-aot-").FullName;

    /// <summary>Gets the folder the sample was published to.</summary>
    public string Output => Path.Combine(_work, "publish");

    /// <summary>Gets the native executable.</summary>
    public string Binary => Path.Combine(Output, "AotQuickStart");

    /// <summary>Gets what dotnet publish printed.</summary>
    public string PublishOutput { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        string project = Path.Combine(RepositoryRoot.Path, "samples", "AotQuickStart", "AotQuickStart.csproj");
        var arguments = new List<string>
        {
            "publish", project, "-c", "Release", "-r", "linux-x64", "-nologo",
            "--artifacts-path", Path.Combine(_work, "artifacts"), "-o", Output,
        };

        // The ILCompiler links with `clang`; where only a versioned one is installed (Debian's clang-14), name it.
        string? compiler = NativeToolchain.Clang();
        if (compiler is not null && compiler != "clang")
        {
            arguments.Add($"-p:CppCompilerAndLinker={compiler}");
        }

        (int exit, string output) = await ChildProcess.RunAsync("dotnet", _work, PublishTimeout, new Dictionary<string, string>(), [.. arguments]);
        PublishOutput = output;
        if (exit != 0)
        {
            throw new InvalidOperationException($"dotnet publish of the AOT sample failed with exit code {exit}:{Environment.NewLine}{output}");
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_work, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Runs the native binary to its end within <paramref name="timeout"/>, keeping its output and error lines.</summary>
    public Task<(int ExitCode, string Output)> RunAsync(TimeSpan timeout, params string[] arguments) =>
        ChildProcess.RunAsync(Binary, _work, timeout, new Dictionary<string, string>(), arguments);
}
