namespace SessionSockets;

/// <summary>The outcome of <see cref="ISessionRepository.ValidateAsync"/>.</summary>
/// <param name="Status">Whether the token names a live session.</param>
/// <param name="Session">The session when <paramref name="Status"/> is <see cref="SessionStatus.Valid"/> or <see cref="SessionStatus.Expired"/>; otherwise <see langword="null"/>.</param>
public readonly record struct SessionValidationResult(SessionStatus Status, SessionInfo? Session)
{
    /// <summary>Gets a value indicating whether the token names a live session.</summary>
    public bool IsValid => Status == SessionStatus.Valid;
}
