using System.Text.Json;
using Tern.Migration.Api;

namespace Tern.Control.Qmp;

/// <summary>
/// Drives one outgoing migration through QMP, as <c>tern migrate</c> does: applies the request's capabilities and
/// parameters, issues <c>migrate</c>, then follows it (events as they come, <c>query-migrate</c> at least every poll
/// interval) until it completes, fails or is cancelled. Cancelling <c>cancelMigration</c> sends <c>migrate_cancel</c>
/// and keeps following until the VM reports the migration finished.
/// </summary>
public sealed class QmpMigrationRunner(QmpClient client, TimeSpan pollInterval)
{
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(500);

    private static readonly Task Never = new TaskCompletionSource().Task;

    /// <summary>
    /// Returns the final <c>query-migrate</c>. Throws <see cref="QmpErrorException"/> if the VM refuses a setting or the
    /// migration itself, <see cref="QmpConnectionException"/> if the VM goes away, and <see cref="OperationCanceledException"/>
    /// if cancellation came before <c>migrate</c> was sent (then no migration was started).
    /// </summary>
    public async Task<MigrationInfo> RunAsync(
        MigrateRequest request, Action<MigrationProgress> onProgress, CancellationToken cancelMigration = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await client.SetCapabilitiesAsync(request.CapabilityChanges());
        if (request.ParameterUpdate() is { } update)
        {
            await client.SetParametersAsync(update);
        }
        while (client.Events.TryRead(out _))
        {
            // Events from before this migration say nothing about it.
        }
        // Cancelled while the settings were applied: do not start a migration only to cancel it.
        cancelMigration.ThrowIfCancellationRequested();
        await client.MigrateAsync(request.Uri);

        var cancelRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var onCancel = cancelMigration.Register(() => cancelRequested.TrySetResult());
        var cancelSent = false;
        long? passFromEvents = null;
        while (true)
        {
            var info = await client.QueryMigrateAsync();
            onProgress(new MigrationProgress(info, passFromEvents ?? info.Ram?.DirtySyncCount ?? 0));
            if (info.Status.IsFinished())
            {
                return info;
            }

            // Once migrate_cancel is sent, the request to cancel is no longer news.
            await WaitForNewsAsync(cancelSent ? Never : cancelRequested.Task);
            while (client.Events.TryRead(out var e))
            {
                if (e.Name == "MIGRATION_PASS" && e.Data is { } data
                    && data.TryGetProperty("pass", out var pass) && pass.ValueKind == JsonValueKind.Number
                    && pass.TryGetInt64(out var number))
                {
                    passFromEvents = number;
                }
            }
            if (cancelRequested.Task.IsCompleted && !cancelSent)
            {
                await client.MigrateCancelAsync();
                cancelSent = true;
            }
        }
    }

    /// <summary>Returns when an event arrives, the poll interval passes, or cancellation is requested.</summary>
    private async Task WaitForNewsAsync(Task cancelRequested)
    {
        using var stopWaiting = new CancellationTokenSource();
        var delay = Task.Delay(pollInterval, stopWaiting.Token);
        var anEvent = client.Events.WaitToReadAsync(stopWaiting.Token).AsTask();
        await Task.WhenAny(delay, anEvent, cancelRequested);
        stopWaiting.Cancel();
        await Task.WhenAll(delay, anEvent).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
