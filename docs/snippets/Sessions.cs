using Npgsql;
using SessionSockets;

namespace DocsSnippets;

// docs/sessions.md
public static class Sessions
{
    public static async Task UseTheRepository(ISessionRepository sessions, CancellationToken cancellationToken)
    {
        // Create: a fresh 256-bit token for the client; only its SHA-256 is stored.
        var created = await sessions.CreateAsync("alice", TimeSpan.FromHours(8), data: """{"role":"admin"}""", cancellationToken: cancellationToken);
        string token = created.Token;              // hand this to the client, as a cookie or a bearer token
        SessionInfo session = created.Session;     // Id (the hash), UserId, CreatedAt, ExpiresAt, LastSeenAt, Data

        // Check a token the way the handshake does.
        var result = await sessions.ValidateAsync(token, cancellationToken);
        if (result.Status == SessionStatus.Valid)
        {
            Console.WriteLine($"{result.Session!.UserId} until {result.Session.ExpiresAt:O}");
        }

        // End it: its sockets get {"type":"session","data":{"status":"revoked"}} and close 1008, on every node.
        await sessions.DeleteAsync(token, cancellationToken);

        // End every session of a user ("log out everywhere").
        int ended = await sessions.DeleteUserSessionsAsync("alice", cancellationToken);
        Console.WriteLine($"{session.Id[..8]}…: {ended} more ended");
    }

    public static void OwnTable(WebApplicationBuilder builder)
    {
        builder.Services.AddSessionWebSockets()
            .AddSqliteStore(o =>
            {
                o.ConnectionString = "Data Source=app.db";
                o.EnsureSchema = false;                 // your migrations own the table
                o.Table.TableName = "user_sessions";
                o.Table.IdColumn = "token_hash";
                o.Table.UserIdColumn = "account_id";
                o.Table.DataColumn = "claims";
            });
    }

    public static void PostgreSql(WebApplicationBuilder builder)
    {
        var dataSource = NpgsqlDataSource.Create(builder.Configuration.GetConnectionString("Sessions")!);
        builder.Services.AddSessionWebSockets()
            .AddPostgreSqlStore(o =>
            {
                o.DataSource = dataSource;              // yours: SessionSockets does not dispose it
                o.Table.SchemaName = "auth";
                o.EnsureSchema = true;
            })
            .AddPostgreSqlBackplane();
    }

    public static void Sliding(WebApplicationBuilder builder)
    {
        builder.Services.AddSessionWebSockets(o =>
            {
                o.SlidingExpiration = true;                  // activity on a bound connection extends its session…
                o.RenewalInterval = TimeSpan.FromMinutes(5); // …written to the store at most every 5 minutes
            })
            .AddSqliteStore("Data Source=sessions.db");
    }

    public static void OwnStore(WebApplicationBuilder builder)
    {
        builder.Services.AddSessionWebSockets()
            .AddSessionStore<MySessionStore>();        // a singleton implementing ISessionRepository
    }
}

public sealed class MySessionStore : ISessionRepository
{
    public Task<CreatedSession> CreateAsync(string userId, TimeSpan lifetime, string? data = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<SessionValidationResult> ValidateAsync(string? token, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<IReadOnlyList<SessionInfo>> GetManyAsync(IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<SessionInfo?> RenewAsync(string sessionId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<bool> DeleteAsync(string token, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<int> DeleteUserSessionsAsync(string userId, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<int> DeleteExpiredAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();
}
