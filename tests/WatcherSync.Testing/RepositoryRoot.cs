namespace WatcherSync.Testing;

/// <summary>Finds the checkout the tests were built from (the folder holding WatcherSync.sln).</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "WatcherSync.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"WatcherSync.sln not found above {AppContext.BaseDirectory}.");
    }
}
