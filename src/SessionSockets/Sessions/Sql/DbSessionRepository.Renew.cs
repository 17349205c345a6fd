namespace SessionSockets.Sessions.Sql;

/// <content>The guarded renewal: the stored row decides whether it may move (see <see cref="SessionQueries.Renew"/>).</content>
public abstract partial class DbSessionRepository
{
    /// <inheritdoc />
    public async Task<SessionInfo?> RenewAsync(string sessionId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = CreateCommand(connection, _queries.Renew);
            await using (command.ConfigureAwait(false))
            {
                AddParameter(command, SessionQueries.ExpiresAtParameter, expiresAt.ToUnixTimeMilliseconds());
                AddParameter(command, SessionQueries.LastSeenAtParameter, Now().ToUnixTimeMilliseconds());
                AddParameter(command, SessionQueries.IdParameter, sessionId);
                var found = new List<SessionInfo>(1);
                await ReadSessionsAsync(command, found, cancellationToken).ConfigureAwait(false);
                if (found.Count > 0)
                {
                    return found[0];
                }
            }

            // Refused by the guard (expired, or shortened since its last renewal) or gone: the row as it is, if any.
            var select = CreateCommand(connection, _queries.SelectById);
            await using (select.ConfigureAwait(false))
            {
                AddParameter(select, SessionQueries.IdParameter, sessionId);
                var found = new List<SessionInfo>(1);
                await ReadSessionsAsync(select, found, cancellationToken).ConfigureAwait(false);
                return found.Count == 0 ? null : found[0];
            }
        }
    }
}
