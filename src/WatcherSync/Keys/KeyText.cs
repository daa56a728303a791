namespace WatcherSync;

/// <summary>
/// Checks that a key path or prefix is valid UTF-16, so it has the one UTF-8 form that etcd stores and orders by. A
/// lone surrogate has none: encoded it becomes U+FFFD, which would alias another key on etcd and sort apart from it
/// in memory, so every backend refuses it where it encodes keys.
/// </summary>
internal static class KeyText
{
    /// <summary>Returns the index of the first lone surrogate in <paramref name="text"/> at or after <paramref name="start"/>, or -1.</summary>
    public static int IndexOfLoneSurrogate(string text, int start = 0)
    {
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (!char.IsSurrogate(c))
            {
                continue;
            }

            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                continue;
            }

            return i;
        }

        return -1;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> when <paramref name="text"/> holds a lone surrogate.</summary>
    public static void ThrowIfNotValidUtf16(string text, string paramName)
    {
        int index = IndexOfLoneSurrogate(text);
        if (index >= 0)
        {
            throw NotValidUtf16(text, index, paramName);
        }
    }

    /// <summary>The exception for a lone surrogate at <paramref name="index"/> of <paramref name="text"/>.</summary>
    public static ArgumentException NotValidUtf16(string text, int index, string paramName) =>
        new($"The key or prefix holds a lone surrogate (U+{(int)text[index]:X4} at index {index}): it is not valid UTF-16, has no UTF-8 form, and cannot be stored or listed.", paramName);
}
