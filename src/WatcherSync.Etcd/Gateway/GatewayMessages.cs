using System.Text.Json;
using System.Text.Json.Serialization;

namespace WatcherSync.Etcd.Gateway;

// The JSON shapes of etcd's gRPC gateway (etcdserverpb as rendered by grpc-gateway): snake_case names, int64 as
// strings, bytes as base64, and zero values left out of replies. Only the fields this client uses are declared.
#pragma warning disable CA1812 // Instantiated by the source-generated serializer.
#pragma warning disable CA1819 // Byte arrays are the wire format here.

internal sealed class ResponseHeader
{
    [JsonPropertyName("revision")]
    public long Revision { get; set; }

    [JsonPropertyName("member_id")]
    public ulong MemberId { get; set; }
}

internal sealed class KeyValue
{
    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    [JsonPropertyName("create_revision")]
    public long CreateRevision { get; set; }

    [JsonPropertyName("mod_revision")]
    public long ModRevision { get; set; }

    [JsonPropertyName("version")]
    public long Version { get; set; }

    [JsonPropertyName("value")]
    public byte[]? Value { get; set; }

    [JsonPropertyName("lease")]
    public long Lease { get; set; }
}

internal sealed class RangeRequest
{
    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    [JsonPropertyName("range_end")]
    public byte[]? RangeEnd { get; set; }

    [JsonPropertyName("limit")]
    public long Limit { get; set; }

    [JsonPropertyName("revision")]
    public long Revision { get; set; }

    [JsonPropertyName("count_only")]
    public bool CountOnly { get; set; }
}

internal sealed class RangeResponse
{
    [JsonPropertyName("header")]
    public ResponseHeader? Header { get; set; }

    [JsonPropertyName("kvs")]
    public List<KeyValue>? Kvs { get; set; }

    [JsonPropertyName("more")]
    public bool More { get; set; }

    [JsonPropertyName("count")]
    public long Count { get; set; }
}

internal sealed class PutRequest
{
    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    [JsonPropertyName("value")]
    public byte[]? Value { get; set; }

    [JsonPropertyName("lease")]
    public long Lease { get; set; }

    [JsonPropertyName("prev_kv")]
    public bool PrevKv { get; set; }
}

internal sealed class PutResponse
{
    [JsonPropertyName("header")]
    public ResponseHeader? Header { get; set; }

    [JsonPropertyName("prev_kv")]
    public KeyValue? PrevKv { get; set; }
}

internal sealed class DeleteRangeRequest
{
    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    [JsonPropertyName("range_end")]
    public byte[]? RangeEnd { get; set; }

    [JsonPropertyName("prev_kv")]
    public bool PrevKv { get; set; }
}

internal sealed class DeleteRangeResponse
{
    [JsonPropertyName("header")]
    public ResponseHeader? Header { get; set; }

    [JsonPropertyName("deleted")]
    public long Deleted { get; set; }

    [JsonPropertyName("prev_kvs")]
    public List<KeyValue>? PrevKvs { get; set; }
}

internal sealed class Compare
{
    /// <summary>EQUAL, GREATER, LESS or NOT_EQUAL.</summary>
    [JsonPropertyName("result")]
    public string? Result { get; set; }

    /// <summary>VERSION, CREATE, MOD, VALUE or LEASE.</summary>
    [JsonPropertyName("target")]
    public string? Target { get; set; }

    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    // Nullable so that a comparison with zero is still sent: the gateway's oneof needs the field present.
    [JsonPropertyName("create_revision")]
    public long? CreateRevision { get; set; }

    [JsonPropertyName("mod_revision")]
    public long? ModRevision { get; set; }
}

internal sealed class RequestOp
{
    [JsonPropertyName("request_range")]
    public RangeRequest? RequestRange { get; set; }

    [JsonPropertyName("request_put")]
    public PutRequest? RequestPut { get; set; }

    [JsonPropertyName("request_delete_range")]
    public DeleteRangeRequest? RequestDeleteRange { get; set; }
}

internal sealed class ResponseOp
{
    [JsonPropertyName("response_range")]
    public RangeResponse? ResponseRange { get; set; }

    [JsonPropertyName("response_put")]
    public PutResponse? ResponsePut { get; set; }

    [JsonPropertyName("response_delete_range")]
    public DeleteRangeResponse? ResponseDeleteRange { get; set; }
}

internal sealed class TxnRequest
{
    [JsonPropertyName("compare")]
    public List<Compare>? Compare { get; set; }

    [JsonPropertyName("success")]
    public List<RequestOp>? Success { get; set; }

    [JsonPropertyName("failure")]
    public List<RequestOp>? Failure { get; set; }
}

internal sealed class TxnResponse
{
    [JsonPropertyName("header")]
    public ResponseHeader? Header { get; set; }

    [JsonPropertyName("succeeded")]
    public bool Succeeded { get; set; }

    [JsonPropertyName("responses")]
    public List<ResponseOp>? Responses { get; set; }
}

internal sealed class CompactionRequest
{
    [JsonPropertyName("revision")]
    public long Revision { get; set; }

    [JsonPropertyName("physical")]
    public bool Physical { get; set; }
}

internal sealed class CompactionResponse
{
    [JsonPropertyName("header")]
    public ResponseHeader? Header { get; set; }
}

internal sealed class LeaseGrantRequest
{
    [JsonPropertyName("TTL")]
    public long Ttl { get; set; }

    [JsonPropertyName("ID")]
    public long Id { get; set; }
}

internal sealed class LeaseGrantResponse
{
    [JsonPropertyName("header")]
    public ResponseHeader? Header { get; set; }

    [JsonPropertyName("ID")]
    public long Id { get; set; }

    [JsonPropertyName("TTL")]
    public long Ttl { get; set; }

    [JsonPropertyName("error")]
    public string? Error { get; set; }
}

internal sealed class LeaseIdRequest
{
    [JsonPropertyName("ID")]
    public long Id { get; set; }
}

internal sealed class LeaseRevokeResponse
{
    [JsonPropertyName("header")]
    public ResponseHeader? Header { get; set; }
}

internal sealed class LeaseKeepAliveReply
{
    [JsonPropertyName("result")]
    public LeaseGrantResponse? Result { get; set; }

    [JsonPropertyName("error")]
    public JsonElement? Error { get; set; }
}

internal sealed class AuthenticateRequest
{
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("password")]
    public string? Password { get; set; }
}

internal sealed class AuthenticateResponse
{
    [JsonPropertyName("header")]
    public ResponseHeader? Header { get; set; }

    [JsonPropertyName("token")]
    public string? Token { get; set; }
}

internal sealed class StatusRequest
{
}

internal sealed class StatusResponse
{
    [JsonPropertyName("header")]
    public ResponseHeader? Header { get; set; }

    [JsonPropertyName("version")]
    public string? Version { get; set; }

    [JsonPropertyName("leader")]
    public ulong Leader { get; set; }
}

/// <summary>The body of a failed unary call: <c>{"error":"…","message":"…","code":11}</c>.</summary>
internal sealed class ErrorReply
{
    [JsonPropertyName("error")]
    public string? Error { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }

    [JsonPropertyName("code")]
    public int Code { get; set; }
}

internal sealed class WatchRequest
{
    [JsonPropertyName("create_request")]
    public WatchCreateRequest? CreateRequest { get; set; }
}

internal sealed class WatchCreateRequest
{
    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    [JsonPropertyName("range_end")]
    public byte[]? RangeEnd { get; set; }

    [JsonPropertyName("start_revision")]
    public long StartRevision { get; set; }

    [JsonPropertyName("progress_notify")]
    public bool ProgressNotify { get; set; }

    [JsonPropertyName("prev_kv")]
    public bool PrevKv { get; set; }
}

/// <summary>One line of the watch stream: <c>{"result":{…}}</c>, or <c>{"error":…}</c> when the stream fails.</summary>
internal sealed class WatchEnvelope
{
    [JsonPropertyName("result")]
    public WatchResponse? Result { get; set; }

    [JsonPropertyName("error")]
    public JsonElement? Error { get; set; }
}

internal sealed class WatchResponse
{
    [JsonPropertyName("header")]
    public ResponseHeader? Header { get; set; }

    [JsonPropertyName("watch_id")]
    public long WatchId { get; set; }

    [JsonPropertyName("created")]
    public bool Created { get; set; }

    [JsonPropertyName("canceled")]
    public bool Canceled { get; set; }

    [JsonPropertyName("compact_revision")]
    public long CompactRevision { get; set; }

    [JsonPropertyName("cancel_reason")]
    public string? CancelReason { get; set; }

    [JsonPropertyName("events")]
    public List<WatchedEvent>? Events { get; set; }
}

internal sealed class WatchedEvent
{
    /// <summary>"DELETE" for deletions; absent (PUT, the zero value) for puts.</summary>
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("kv")]
    public KeyValue? Kv { get; set; }

    [JsonPropertyName("prev_kv")]
    public KeyValue? PrevKv { get; set; }
}
