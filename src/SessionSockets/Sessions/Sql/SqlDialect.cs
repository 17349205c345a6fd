using System.Data.Common;

namespace SessionSockets.Sessions.Sql;

/// <summary>
/// What differs between SQL engines for a <see cref="DbSessionRepository"/>: identifier quoting, parameter
/// placeholders, column types, schema statements and how a batch of ids is passed. Everything else is standard SQL
/// (including <c>RETURNING</c>, which SQLite 3.35+ and PostgreSQL both support).
/// </summary>
/// <remarks>Provider packages implement this; applications rarely need to.</remarks>
public abstract class SqlDialect
{
    /// <summary>Gets the column type used for text (ids, user ids and data).</summary>
    public abstract string TextType { get; }

    /// <summary>Gets the column type used for 64-bit integers (times as Unix milliseconds).</summary>
    public abstract string Int64Type { get; }

    /// <summary>Gets a value indicating whether the engine has schemas (<see cref="SessionTableOptions.SchemaName"/>).</summary>
    /// <value>Default <see langword="true"/>.</value>
    public virtual bool SupportsSchemas => true;

    /// <summary>Gets the largest number of ids read by one <see cref="ISessionRepository.GetManyAsync"/> command.</summary>
    /// <value>Default 500.</value>
    public virtual int MaxBatchSize => 500;

    /// <summary>Quotes an identifier that has already been checked to be a plain identifier.</summary>
    /// <param name="identifier">A name matching <c>^[A-Za-z_][A-Za-z0-9_]*$</c>.</param>
    /// <returns>The quoted identifier; by default in ANSI double quotes.</returns>
    public virtual string QuoteIdentifier(string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        return "\"" + identifier + "\"";
    }

    /// <summary>Gets the placeholder that names a parameter in SQL text.</summary>
    /// <param name="name">The parameter's name, without prefix.</param>
    /// <returns>The placeholder; by default <c>@name</c>.</returns>
    public virtual string ParameterPlaceholder(string name) => "@" + name;

    /// <summary>
    /// Gets statements run first, in the same transaction, when the schema is ensured: for instance a lock that keeps
    /// several nodes from creating the table at once, or <c>CREATE SCHEMA</c>.
    /// </summary>
    /// <param name="quotedSchema">The quoted schema name, or <see langword="null"/>.</param>
    /// <returns>The statements; by default <c>CREATE SCHEMA IF NOT EXISTS</c> when a schema is named.</returns>
    public virtual IEnumerable<string> SchemaPreamble(string? quotedSchema) =>
        quotedSchema is null ? [] : ["CREATE SCHEMA IF NOT EXISTS " + quotedSchema];

    /// <summary>Gets the condition that matches <paramref name="quotedColumn"/> against a list of ids passed as one parameter.</summary>
    /// <param name="quotedColumn">The quoted id column.</param>
    /// <param name="parameterPlaceholder">The placeholder of the parameter made by <see cref="AddIdListParameter"/>.</param>
    /// <returns>A SQL condition.</returns>
    public abstract string IdListCondition(string quotedColumn, string parameterPlaceholder);

    /// <summary>Adds the parameter that carries a list of ids for <see cref="IdListCondition"/>.</summary>
    /// <param name="command">The command.</param>
    /// <param name="parameterName">The parameter's name, without prefix.</param>
    /// <param name="ids">The ids (at most <see cref="MaxBatchSize"/>).</param>
    public abstract void AddIdListParameter(DbCommand command, string parameterName, IReadOnlyList<string> ids);
}
