namespace WatcherSync.Aot.Tests;

/// <summary>Finds the C compiler the ILCompiler links native AOT binaries with on Linux.</summary>
internal static class NativeToolchain
{
    /// <summary>Returns <c>clang</c> when it is on the PATH, else the newest versioned <c>clang-N</c> there, else null (the publish then says what is missing).</summary>
    public static string? Clang()
    {
        string[] folders = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        if (folders.Any(folder => File.Exists(Path.Combine(folder, "clang"))))
        {
            return "clang";
        }

        return folders
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "clang-*"))
            .Select(Path.GetFileName)
            .Select(name => (Name: name!, Version: int.TryParse(name!["clang-".Length..], out int version) ? version : -1))
            .Where(candidate => candidate.Version > 0)
            .OrderByDescending(candidate => candidate.Version)
            .Select(candidate => candidate.Name)
            .FirstOrDefault();
    }
}
