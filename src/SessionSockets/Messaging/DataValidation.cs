using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Reflection;

namespace SessionSockets.Messaging;

/// <summary>
/// DataAnnotations validation of bound payloads, including attributes written on record primary-constructor
/// parameters (which <see cref="Validator"/> alone does not see), with the per-type work done once.
/// </summary>
internal static class DataValidation
{
    private static readonly ConcurrentDictionary<Type, TypeRules> Cache = new();

    public static bool TryValidate(object value, out string? error)
    {
        error = null;
        var rules = Cache.GetOrAdd(value.GetType(), static t => TypeRules.Create(t));
        if (!rules.Any)
        {
            return true;
        }

        var results = new List<ValidationResult>();
        Validator.TryValidateObject(value, new ValidationContext(value), results, validateAllProperties: true);
        foreach (var (property, attributes) in rules.ParameterRules)
        {
            var context = new ValidationContext(value) { MemberName = property.Name, DisplayName = property.Name };
            Validator.TryValidateValue(property.GetValue(value)!, context, results, attributes);
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

    private sealed record TypeRules(bool Any, (PropertyInfo Property, ValidationAttribute[] Attributes)[] ParameterRules)
    {
        public static TypeRules Create(Type type)
        {
            if (type.IsPrimitive || type == typeof(string) || type.IsEnum || type == typeof(decimal))
            {
                return new TypeRules(false, []);
            }

            var any = typeof(IValidatableObject).IsAssignableFrom(type)
                || type.IsDefined(typeof(ValidationAttribute), inherit: true)
                || type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Any(p => p.IsDefined(typeof(ValidationAttribute), inherit: true));

            var parameterRules = new List<(PropertyInfo, ValidationAttribute[])>();
            foreach (var constructor in type.GetConstructors())
            {
                foreach (var parameter in constructor.GetParameters())
                {
                    var attributes = parameter.GetCustomAttributes<ValidationAttribute>(inherit: true).ToArray();
                    var property = parameter.Name is null ? null : type.GetProperty(parameter.Name, BindingFlags.Public | BindingFlags.Instance);
                    if (attributes.Length > 0 && property is not null && !property.IsDefined(typeof(ValidationAttribute), inherit: true)
                        && parameterRules.TrueForAll(r => r.Item1 != property))
                    {
                        parameterRules.Add((property, attributes));
                    }
                }
            }

            return new TypeRules(any || parameterRules.Count > 0, [.. parameterRules]);
        }
    }
}
