using System.CommandLine;

namespace WatcherSync.Cli.Commands;

/// <summary>Range checks on options, reported as parse errors (one line, exit code 2) before anything runs.</summary>
internal static class OptionRules
{
    public static Option<int> AtLeast(this Option<int> option, int minimum)
    {
        option.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            if (value < minimum)
            {
                result.AddError($"{option.Name} must be at least {minimum}, not {value}.");
            }
        });
        return option;
    }

    public static Option<double> AtLeast(this Option<double> option, double minimum)
    {
        option.Validators.Add(result =>
        {
            double value = result.GetValueOrDefault<double>();
            if (double.IsNaN(value) || value < minimum)
            {
                result.AddError($"{option.Name} must be at least {minimum}, not {value}.");
            }
        });
        return option;
    }
}
