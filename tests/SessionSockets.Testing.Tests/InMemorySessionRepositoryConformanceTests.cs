using SessionSockets.TestSupport.Conformance;

namespace SessionSockets.Testing.Tests;

/// <summary>The in-memory store against the suite the SQL stores pass: a test on it must mean what it means in production.</summary>
[TestFixture]
public sealed class InMemorySessionRepositoryConformanceTests : SessionRepositoryConformanceTests
{
    private InMemorySessionRepository _repository = null!;

    protected override Task<ISessionRepository> CreateRepositoryAsync(TimeProvider timeProvider)
    {
        _repository = new InMemorySessionRepository(timeProvider);
        return Task.FromResult<ISessionRepository>(_repository);
    }

    // What a SQL store's row would hold: the id (the token's hash), the user, the three times in Unix milliseconds, the data.
    protected override Task<IReadOnlyList<object?[]>> ReadStoredRowsAsync() =>
        Task.FromResult<IReadOnlyList<object?[]>>(
        [
            .. _repository.Sessions.Select(s => new object?[]
            {
                s.Id, s.UserId, s.CreatedAt.ToUnixTimeMilliseconds(), s.ExpiresAt.ToUnixTimeMilliseconds(), s.LastSeenAt.ToUnixTimeMilliseconds(), s.Data,
            }),
        ]);
}
