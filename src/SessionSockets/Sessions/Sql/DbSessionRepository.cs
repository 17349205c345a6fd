using System.Data;
using System.Data.Common;

namespace SessionSockets.Sessions.Sql;

/// <summary>
/// <see cref="ISessionRepository"/> over ADO.NET: one implementation for every SQL engine, which a provider
/// package completes with a <see cref="SqlDialect"/> and a <see cref="DbDataSource"/>.
/// </summary>
/// <remarks>
/// Commands are parameterised; table and column names come from <see cref="SessionTableOptions"/>, checked and
/// quoted once. Times are stored as Unix milliseconds and read from the <see cref="System.TimeProvider"/>.
/// A session is valid while its expiry is later than now. A store fault propagates as the provider's exception.
/// </remarks>
public abstract partial class DbSessionRepository : ISessionRepository
{
    private const int MaxUserIdLength = 256;

    private readonly SessionQueries _queries;
    private readonly SqlDialect _dialect;
    private readonly Lock _initGate = new();
    private Task? _initialization;

    /// <summary>Initializes a new instance of the <see cref="DbSessionRepository"/> class.</summary>
    /// <param name="dataSource">Where connections come from.</param>
    /// <param name="dialect">The engine's SQL differences.</param>
    /// <param name="table">The table and column names; copied, so later changes have no effect.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <exception cref="ArgumentException">A name in <paramref name="table"/> is not a plain identifier, or names a schema the engine lacks.</exception>
    protected DbSessionRepository(DbDataSource dataSource, SqlDialect dialect, SessionTableOptions table, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(dialect);
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(timeProvider);
        DataSource = dataSource;
        _dialect = dialect;
        Table = table.Clone();
        TimeProvider = timeProvider;
        _queries = new SessionQueries(dialect, Table);
    }

    /// <summary>Gets where connections come from.</summary>
    protected DbDataSource DataSource { get; }

    /// <summary>Gets the clock.</summary>
    protected TimeProvider TimeProvider { get; }

    /// <summary>Gets the table and column names in use.</summary>
    protected SessionTableOptions Table { get; }

    /// <summary>Creates the table and its indexes (on the expiry and the user id) when they do not exist. Safe to call at any time, from several nodes.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the schema exists.</returns>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken = default)
    {
        var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                foreach (var statement in _queries.Schema)
                {
                    var command = connection.CreateCommand();
                    await using (command.ConfigureAwait(false))
                    {
                        command.Transaction = transaction;
                        command.CommandText = statement;
                        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public async Task<CreatedSession> CreateAsync(string userId, TimeSpan lifetime, string? data = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        if (userId.Length > MaxUserIdLength)
        {
            throw new ArgumentException($"A user id has at most {MaxUserIdLength} characters.", nameof(userId));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        var now = Now();
        if (lifetime > DateTimeOffset.MaxValue - now)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), lifetime, "The session would expire after the end of time.");
        }

        var token = SessionTokens.Generate();
        var session = new SessionInfo(SessionTokens.ComputeId(token), userId, now, Truncate(now + lifetime), now, data);

        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = CreateCommand(connection, _queries.Insert);
            await using (command.ConfigureAwait(false))
            {
                AddParameter(command, SessionQueries.IdParameter, session.Id);
                AddParameter(command, SessionQueries.UserIdParameter, session.UserId);
                AddParameter(command, SessionQueries.CreatedAtParameter, session.CreatedAt.ToUnixTimeMilliseconds());
                AddParameter(command, SessionQueries.ExpiresAtParameter, session.ExpiresAt.ToUnixTimeMilliseconds());
                AddParameter(command, SessionQueries.LastSeenAtParameter, session.LastSeenAt.ToUnixTimeMilliseconds());
                AddParameter(command, SessionQueries.DataParameter, data);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        return new CreatedSession(token, session);
    }

    /// <inheritdoc />
    public async Task<SessionValidationResult> ValidateAsync(string? token, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            return new SessionValidationResult(SessionStatus.Empty, null);
        }

        if (token.Length > SessionTokens.MaxTokenLength)
        {
            return new SessionValidationResult(SessionStatus.Invalid, null);
        }

        var session = await GetAsync(SessionTokens.ComputeId(token), cancellationToken).ConfigureAwait(false);
        if (session is null)
        {
            return new SessionValidationResult(SessionStatus.Invalid, null);
        }

        return new SessionValidationResult(session.ExpiresAt > TimeProvider.GetUtcNow() ? SessionStatus.Valid : SessionStatus.Expired, session);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SessionInfo>> GetManyAsync(IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionIds);
        var distinct = sessionIds.Where(static id => id is not null).Distinct(StringComparer.Ordinal).ToArray();
        if (distinct.Length == 0)
        {
            return [];
        }

        var found = new List<SessionInfo>(distinct.Length);
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            foreach (var batch in distinct.Chunk(Math.Max(1, _dialect.MaxBatchSize)))
            {
                var command = CreateCommand(connection, _queries.SelectMany);
                await using (command.ConfigureAwait(false))
                {
                    _dialect.AddIdListParameter(command, SessionQueries.IdsParameter, batch);
                    await ReadSessionsAsync(command, found, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return found;
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (string.IsNullOrWhiteSpace(token) || token.Length > SessionTokens.MaxTokenLength)
        {
            return false;
        }

        return await ExecuteAsync(_queries.DeleteById, SessionQueries.IdParameter, SessionTokens.ComputeId(token), cancellationToken).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    public Task<int> DeleteUserSessionsAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        return ExecuteAsync(_queries.DeleteByUser, SessionQueries.UserIdParameter, userId, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> DeleteExpiredAsync(CancellationToken cancellationToken = default) =>
        ExecuteAsync(_queries.DeleteExpired, SessionQueries.NowParameter, TimeProvider.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);

    /// <summary>
    /// Runs once, before the first command of this instance (and again after a failed attempt): provider set-up such as
    /// creating the schema. A provider may also call <see cref="EnsureInitializedAsync"/> at start to fail fast.
    /// </summary>
    /// <param name="cancellationToken">Never cancelled: one caller's cancellation must not fail another's.</param>
    /// <returns>A task that completes when the store is ready.</returns>
    protected virtual Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs <see cref="InitializeAsync"/> unless it has completed already; concurrent callers share one run.</summary>
    /// <param name="cancellationToken">Stops this caller's wait, not the initialization.</param>
    /// <returns>A task that completes when the store is ready.</returns>
    protected Task EnsureInitializedAsync(CancellationToken cancellationToken = default)
    {
        var current = Volatile.Read(ref _initialization);
        if (current is { IsCompletedSuccessfully: true })
        {
            return Task.CompletedTask;
        }

        lock (_initGate)
        {
            if (_initialization is null || _initialization.IsFaulted || _initialization.IsCanceled)
            {
                _initialization = InitializeAsync(CancellationToken.None);
            }

            current = _initialization;
        }

        return current.WaitAsync(cancellationToken);
    }

    /// <summary>Opens a connection for one operation, after <see cref="InitializeAsync"/> has run.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>An open connection, which the caller disposes.</returns>
    protected virtual async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        await EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
    }

    private static DbCommand CreateCommand(DbConnection connection, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    private static void AddParameter(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        parameter.DbType = value switch
        {
            long => DbType.Int64,
            _ => DbType.String,
        };
        command.Parameters.Add(parameter);
    }

    private static DateTimeOffset Truncate(DateTimeOffset time) => DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());

    private static async Task ReadSessionsAsync(DbCommand command, List<SessionInfo> into, CancellationToken cancellationToken)
    {
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                into.Add(new SessionInfo(
                    reader.GetString(0),
                    reader.GetString(1),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                    await reader.IsDBNullAsync(5, cancellationToken).ConfigureAwait(false) ? null : reader.GetString(5)));
            }
        }
    }

    private DateTimeOffset Now() => Truncate(TimeProvider.GetUtcNow());

    private async Task<SessionInfo?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = CreateCommand(connection, _queries.SelectById);
            await using (command.ConfigureAwait(false))
            {
                AddParameter(command, SessionQueries.IdParameter, id);
                var found = new List<SessionInfo>(1);
                await ReadSessionsAsync(command, found, cancellationToken).ConfigureAwait(false);
                return found.Count == 0 ? null : found[0];
            }
        }
    }

    private async Task<int> ExecuteAsync(string sql, string parameterName, object value, CancellationToken cancellationToken)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = CreateCommand(connection, sql);
            await using (command.ConfigureAwait(false))
            {
                AddParameter(command, parameterName, value);
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
