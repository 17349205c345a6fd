namespace SessionSockets.Testing;

/// <summary>The server answered with an error (<c>{"type":"error"}</c>) where the test expected something else.</summary>
public sealed class SocketErrorException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="SocketErrorException"/> class.</summary>
    public SocketErrorException()
        : this("The server answered with an error.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SocketErrorException"/> class.</summary>
    /// <param name="message">The exception's message.</param>
    public SocketErrorException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SocketErrorException"/> class.</summary>
    /// <param name="message">The exception's message.</param>
    /// <param name="innerException">The cause.</param>
    public SocketErrorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SocketErrorException"/> class for an error reply.</summary>
    /// <param name="error">The error message the server sent.</param>
    public SocketErrorException(SocketMessage error)
        : base($"The server answered '{error?.ErrorCode}': {error?.ErrorMessage}")
    {
        ArgumentNullException.ThrowIfNull(error);
        Error = error;
    }

    /// <summary>Gets the error message the server sent, when there was one.</summary>
    public SocketMessage? Error { get; }

    /// <summary>Gets the error's <c>code</c>, such as <c>invalid_data</c>.</summary>
    public string? Code => Error?.ErrorCode;
}
