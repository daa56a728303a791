using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FluentAssertions;
using Xunit;

namespace WatcherSync.Tests.Codecs;

/// <summary>The codec made from a source-generated contract (the trimming and native AOT path) against the reflection one.</summary>
public sealed class JsonValueCodecTests
{
    private static readonly byte[] PodBytes = Encoding.UTF8.GetBytes("""{"phase":"running","restarts":2}""");

    [Fact]
    public void Decode_FromASourceGeneratedContract_DecodesAsItsType()
    {
        JsonValueCodec codec = JsonValueCodec.For(CodecTestJson.Default.Pod);

        codec.ValueType.Should().Be<Pod>();
        codec.Decode("/pods/a", PodBytes).Should().Be(new Pod("running", 2));
        codec.Decode<Pod>("/pods/a", PodBytes).Should().Be(new Pod("running", 2));
    }

    [Fact]
    public void Encode_FromASourceGeneratedContract_WritesWhatTheReflectionCodecWrites()
    {
        JsonValueCodec generated = JsonValueCodec.For(CodecTestJson.Default.Pod);
        JsonValueCodec reflection = JsonValueCodec.For<Pod>();
        var pod = new Pod("pending", 0);

        Encoding.UTF8.GetString(generated.Encode(pod)).Should().Be("""{"phase":"pending","restarts":0}""")
            .And.Be(Encoding.UTF8.GetString(reflection.Encode(pod)));
        generated.Encode(PodBytes).Should().BeSameAs(PodBytes, "bytes are stored as they are");
    }

    [Fact]
    public void Decode_ATypeTheContextDoesNotKnow_IsAValueParseExceptionNamingTheType()
    {
        JsonValueCodec codec = JsonValueCodec.For(CodecTestJson.Default.Pod);

        Action decode = () => codec.Decode<Dictionary<string, int>>("/pods/a", PodBytes);

        decode.Should().Throw<ValueParseException>().WithMessage("*cannot be decoded as Dictionary`2*");
    }

    [Fact]
    public void Decode_InvalidJson_IsAValueParseExceptionWithThePreview()
    {
        JsonValueCodec codec = new(CodecTestJson.Default.Pod);

        Action decode = () => codec.Decode("/pods/a", "{not json"u8.ToArray());

        decode.Should().Throw<ValueParseException>().WithMessage("*not valid JSON for Pod*");
    }

    [Fact]
    public void Decode_WithoutAType_GivesAJsonElement()
    {
        var codec = new JsonValueCodec();

        object value = codec.Decode("/pods/a", PodBytes);

        value.Should().BeOfType<JsonElement>().Which.GetProperty("phase").GetString().Should().Be("running");
        Encoding.UTF8.GetString(codec.Encode(value)).Should().Be("""{"phase":"running","restarts":2}""");
    }
}

internal sealed record Pod(string Phase, int Restarts);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Pod))]
internal sealed partial class CodecTestJson : JsonSerializerContext;
