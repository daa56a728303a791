using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Aot.Tests;

/// <summary>
/// A project published once as native AOT (for linux-x64) into a temporary folder, with bin/ and obj/ of every project
/// it builds in that folder too (--artifacts-path), so the publish never touches the checkout's build output that other
/// test projects use. Each published project is a class fixture deriving from this one.
/// </summary>
public abstract class NativePublish : IAsyncLifetime
{
    /// <summary>
    /// How long the publish may take: the ILCompiler package restore and the native compile and link, on a loaded
    /// machine (the tool's publish took over 15 min on 2 cores at load average 32, where a 15 min limit failed the run).
    /// </summary>
    public static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(40);

    private readonly string _project;
    private readonly string _work = Directory.CreateTempSubdirectory("watchersync-aot-").FullName;

    /// <param name="project">The project file, relative to the repository root.</param>
    /// <param name="binaryName">The name of the native executable the publish makes.</param>
    protected NativePublish(string project, string binaryName)
    {
        _project = Path.Combine(RepositoryRoot.Path, project);
        Binary = Path.Combine(Output, binaryName);
    }

    /// <summary>Gets the folder the project was published to.</summary>
    public string Output => Path.Combine(_work, "publish");

    /// <summary>Gets the native executable.</summary>
    public string Binary { get; }

    /// <summary>Gets a folder the tests may use as a working directory.</summary>
    public string Work => _work;

    /// <summary>Gets what dotnet publish printed.</summary>
    public string PublishOutput { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        var arguments = new List<string>
        {
            "publish", _project, "-c", "Release", "-r", "linux-x64", "-nologo",
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
            throw new InvalidOperationException($"dotnet publish of {Path.GetFileName(_project)} as native AOT failed with exit code {exit}:{Environment.NewLine}{output}");
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_work, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Checks what every native publish must give: no trim or AOT finding (the analysis covers the project and every
    /// library and package it uses), a native ELF executable, and no managed assembly beside it.
    /// </summary>
    public void ShouldBeANativeExecutableWithoutFindings()
    {
        PublishOutput.Should().NotMatchRegex(@"warning IL\d{4}", "the trim and AOT analysis finds nothing");
        byte[] header = File.ReadAllBytes(Binary).AsSpan(0, 4).ToArray();
        header.Should().Equal([0x7F, (byte)'E', (byte)'L', (byte)'F'], "the binary is a native ELF executable");
        Directory.GetFiles(Output, "*.dll").Should().BeEmpty("native AOT compiles the managed code into the binary");
    }

    /// <summary>Runs the native binary to its end within <paramref name="timeout"/>, keeping its output and error lines.</summary>
    public Task<(int ExitCode, string Output)> RunAsync(TimeSpan timeout, params string[] arguments) =>
        ChildProcess.RunAsync(Binary, _work, timeout, new Dictionary<string, string>(), arguments);
}
