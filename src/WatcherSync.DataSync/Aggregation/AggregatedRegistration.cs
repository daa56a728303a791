namespace WatcherSync.DataSync;

/// <summary>A registration made of several: every call goes to each of them, and closing it closes each.</summary>
public sealed class AggregatedRegistration : IWatchRegistration
{
    private readonly IWatchRegistration[] _registrations;
    private int _disposed;

    /// <summary>Creates the aggregate of <paramref name="registrations"/>; it owns them.</summary>
    public AggregatedRegistration(IEnumerable<IWatchRegistration> registrations)
    {
        ArgumentNullException.ThrowIfNull(registrations);
        _registrations = [.. registrations];
    }

    /// <summary>Gets the registrations it is made of.</summary>
    public IReadOnlyList<IWatchRegistration> Registrations => _registrations;

    /// <inheritdoc />
    /// <exception cref="AggregateException">One or more inner registrations refused; the others were still called.</exception>
    public void Register(string resyncName, string keyPrefix) => ForEach(r => r.Register(resyncName, keyPrefix));

    /// <inheritdoc />
    /// <exception cref="AggregateException">One or more inner registrations refused; the others were still called.</exception>
    public void Unregister(string keyPrefix) => ForEach(r => r.Unregister(keyPrefix));

    /// <summary>Closes every inner registration.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        List<Exception>? errors = null;
        foreach (IWatchRegistration registration in _registrations)
        {
            try
            {
                await registration.DisposeAsync().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Every inner registration is closed; the errors are thrown together at the end.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                (errors ??= []).Add(ex);
            }
        }

        if (errors is not null)
        {
            throw new AggregateException("Closing some registrations failed.", errors);
        }
    }

    private void ForEach(Action<IWatchRegistration> action)
    {
        List<Exception>? errors = null;
        foreach (IWatchRegistration registration in _registrations)
        {
            try
            {
                action(registration);
            }
#pragma warning disable CA1031 // Every inner registration is called; the errors are thrown together at the end.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                (errors ??= []).Add(ex);
            }
        }

        if (errors is not null)
        {
            throw new AggregateException(errors);
        }
    }
}
