using System.Diagnostics;

namespace JpegLm.Cli.Distributed;

/// <summary>
/// Watches the collective call in progress: when one has waited longer than the timeout (a rank died in a way the
/// launcher did not notice, or hangs), it calls <c>onTimeout</c> once with a message naming the call and the wait,
/// from a timer thread, while the trainer is still blocked in the call. The MPI group then aborts the whole job.
/// </summary>
public sealed class CollectiveWatchdog : IDisposable
{
    private readonly object _gate = new();
    private readonly Action<string> _onTimeout;
    private readonly Timer _timer;
    private string? _operation;
    private long _started;
    private bool _fired;

    /// <summary>Starts watching; <paramref name="timeout"/> of zero or less never fires.</summary>
    public CollectiveWatchdog(TimeSpan timeout, Action<string> onTimeout)
    {
        Timeout = timeout;
        _onTimeout = onTimeout ?? throw new ArgumentNullException(nameof(onTimeout));
        TimeSpan period = TimeSpan.FromMilliseconds(Math.Clamp(timeout.TotalMilliseconds / 4, 50, 1000));
        _timer = new Timer(_ => Check(), null, timeout > TimeSpan.Zero ? period : System.Threading.Timeout.InfiniteTimeSpan, period);
    }

    /// <summary>How long one call may wait.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Marks <paramref name="operation"/> as in progress until the returned scope is disposed.</summary>
    public Scope Enter(string operation)
    {
        lock (_gate)
        {
            _operation = operation;
            _started = Stopwatch.GetTimestamp();
        }

        return new Scope(this);
    }

    /// <inheritdoc/>
    public void Dispose() => _timer.Dispose();

    private void Leave()
    {
        lock (_gate)
        {
            _operation = null;
        }
    }

    private void Check()
    {
        string message;
        lock (_gate)
        {
            if (_fired || _operation == null || Stopwatch.GetElapsedTime(_started) < Timeout)
            {
                return;
            }

            _fired = true;
            message = $"no answer from the other ranks in {_operation} for {Timeout.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)} s: a rank has died or hangs";
        }

        _onTimeout(message);
    }

    /// <summary>The span of one watched call.</summary>
    public readonly struct Scope : IDisposable, IEquatable<Scope>
    {
        private readonly CollectiveWatchdog? _owner;

        internal Scope(CollectiveWatchdog owner) => _owner = owner;

        /// <inheritdoc/>
        public void Dispose() => _owner?.Leave();

        /// <inheritdoc/>
        public bool Equals(Scope other) => ReferenceEquals(_owner, other._owner);

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is Scope s && Equals(s);

        /// <inheritdoc/>
        public override int GetHashCode() => _owner?.GetHashCode() ?? 0;

        /// <summary>Equality of scopes (by owner).</summary>
        public static bool operator ==(Scope left, Scope right) => left.Equals(right);

        /// <summary>Inequality of scopes.</summary>
        public static bool operator !=(Scope left, Scope right) => !left.Equals(right);
    }
}
