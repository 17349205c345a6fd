using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace SessionSockets.Messaging;

/// <summary>
/// DataAnnotations validation of bound payloads, including attributes written on record primary-constructor
/// parameters (which <see cref="Validator"/> alone does not see), with the per-type work done once.
/// </summary>
/// <remarks>
/// Written by hand rather than with <see cref="Validator.TryValidateObject(object, ValidationContext, ICollection{ValidationResult}, bool)"/>:
/// that method reflects over the runtime type, which trimming and Native AOT cannot keep. Here the payload's static type
/// carries <see cref="DynamicallyAccessedMembersAttribute"/> from the handler's registration, so its properties,
/// constructors and their attributes survive trimming. The order is <see cref="Validator"/>'s: property rules
/// (<see cref="RequiredAttribute"/> first), then the type's own attributes, then <see cref="IValidatableObject"/>, each
/// step only when the previous one passed. (.NET 10's Microsoft.Extensions.Validation would need every payload type
/// marked <c>[ValidatableType]</c> and its generator run in the app, and its resolver API is still experimental.)
/// </remarks>
internal static class DataValidation
{
    /// <summary>What a payload type's validation reads: its public properties and constructors.</summary>
    public const DynamicallyAccessedMemberTypes Members = DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicConstructors;

    private static readonly ConcurrentDictionary<Type, TypeRules> Cache = new();

    public static bool TryValidate<[DynamicallyAccessedMembers(Members)] T>(T value, out string? error)
    {
        error = null;
        if (value is null)
        {
            return true;
        }

        var rules = Cache.GetOrAdd(typeof(T), static _ => TypeRules.Create(typeof(T)));
        if (!rules.Any)
        {
            return true;
        }

        var results = new List<ValidationResult>();
        foreach (var (property, attributes) in rules.Properties)
        {
            var context = new ValidationContext(value, property.Name, null, null) { MemberName = property.Name };
            var propertyValue = property.GetValue(value);
            var required = Array.Find(attributes, static a => a is RequiredAttribute);
            if (required is not null && required.GetValidationResult(propertyValue, context) is { } missing)
            {
                results.Add(missing);
                continue;
            }

            foreach (var attribute in attributes)
            {
                if (attribute != required && attribute.GetValidationResult(propertyValue, context) is { } failed)
                {
                    results.Add(failed);
                }
            }
        }

        var whole = new ValidationContext(value, typeof(T).Name, null, null);
        if (results.Count == 0)
        {
            foreach (var attribute in rules.TypeAttributes)
            {
                if (attribute.GetValidationResult(value, whole) is { } failed)
                {
                    results.Add(failed);
                }
            }
        }

        if (results.Count == 0 && value is IValidatableObject validatable)
        {
            results.AddRange(validatable.Validate(whole).Where(static r => r != ValidationResult.Success));
        }

        if (results.Count == 0)
        {
            return true;
        }

        error = string.Join(" ", results.Select(r => r.ErrorMessage).Where(m => !string.IsNullOrEmpty(m)).Distinct());
        if (error.Length == 0)
        {
            error = "'data' is not valid.";
        }

        return false;
    }

    private sealed record TypeRules(bool Any, (PropertyInfo Property, ValidationAttribute[] Attributes)[] Properties, ValidationAttribute[] TypeAttributes)
    {
        public static TypeRules Create([DynamicallyAccessedMembers(Members)] Type type)
        {
            if (type.IsPrimitive || type == typeof(string) || type.IsEnum || type == typeof(decimal))
            {
                return new TypeRules(false, [], []);
            }

            var properties = new List<(PropertyInfo, ValidationAttribute[])>();
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var attributes = property.GetCustomAttributes<ValidationAttribute>(inherit: true).ToArray();
                if (attributes.Length > 0 && property.GetIndexParameters().Length == 0)
                {
                    properties.Add((property, attributes));
                }
            }

            // A record's primary-constructor parameter carries the attribute unless it says [property: ...].
            foreach (var constructor in type.GetConstructors())
            {
                foreach (var parameter in constructor.GetParameters())
                {
                    var attributes = parameter.GetCustomAttributes<ValidationAttribute>(inherit: true).ToArray();
                    var property = parameter.Name is null ? null : type.GetProperty(parameter.Name, BindingFlags.Public | BindingFlags.Instance);
                    if (attributes.Length > 0 && property is not null && property.GetIndexParameters().Length == 0
                        && properties.TrueForAll(r => r.Item1 != property))
                    {
                        properties.Add((property, attributes));
                    }
                }
            }

            var typeAttributes = type.GetCustomAttributes<ValidationAttribute>(inherit: true).ToArray();
            var any = properties.Count > 0 || typeAttributes.Length > 0 || typeof(IValidatableObject).IsAssignableFrom(type);
            return new TypeRules(any, [.. properties], typeAttributes);
        }
    }
}
