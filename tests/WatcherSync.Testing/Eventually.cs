using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace WatcherSync.Testing;

/// <summary>Waits on conditions with a deadline, never with a fixed sleep standing in for the condition.</summary>
public static class Eventually
{
    /// <summary>The default deadline for a condition.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Polls <paramref name="condition"/> until it holds, failing with <paramref name="because"/> after the timeout.</summary>
    public static async Task True(Func<bool> condition, string because, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        TimeSpan limit = timeout ?? DefaultTimeout;
        while (!condition())
        {
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"Condition not met within {limit.TotalSeconds:0.#} s: {because}");
            }

            await Task.Delay(5).ConfigureAwait(false);
        }
    }

    /// <summary>Awaits <paramref name="task"/>, failing with <paramref name="because"/> after the timeout.</summary>
    public static async Task<T> Within<T>(Task<T> task, string because, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        try
        {
            return await task.WaitAsync(timeout ?? DefaultTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Not done within {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s: {because}", ex);
        }
    }

    /// <summary>Awaits <paramref name="task"/>, failing with <paramref name="because"/> after the timeout.</summary>
    public static async Task Within(Task task, string because, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        try
        {
            await task.WaitAsync(timeout ?? DefaultTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Not done within {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s: {because}", ex);
        }
    }

    /// <summary>
    /// Moves the fake clock on by <paramref name="step"/> (100 ms by default) until <paramref name="condition"/> holds,
    /// failing with <paramref name="because"/> after the real-time timeout.
    /// </summary>
    public static Task Advancing(FakeTimeProvider time, Func<bool> condition, string because, TimeSpan? step = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(condition);
        TimeSpan by = step ?? TimeSpan.FromMilliseconds(100);
        return True(
            () =>
            {
                if (condition())
                {
                    return true;
                }

                time.Advance(by);
                return false;
            },
            because,
            timeout);
    }
}
