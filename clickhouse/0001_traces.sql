-- Sieve migration 0001: raw traces, as the OpenTelemetry Collector's clickhouseexporter creates them,
-- plus Sieve's columns after the exporter's. Placeholders: {{database}}, {{on_cluster}},
-- {{engine:<Family>}} (MergeTree family; Replicated* on a cluster), {{raw_ttl_days}}, {{rollup_ttl_days}}.
CREATE TABLE IF NOT EXISTS {{database}}.otel_traces {{on_cluster}} (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(T64, ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    TenantId LowCardinality(String) CODEC(ZSTD(1)) COMMENT 'resource tenant.id',
    Environment LowCardinality(String) CODEC(ZSTD(1)) COMMENT 'deployment.environment.name or deployment.environment',
    GenAiProvider LowCardinality(String) CODEC(ZSTD(1)) COMMENT 'gen_ai.provider.name or gen_ai.system',
    GenAiOperation LowCardinality(String) CODEC(ZSTD(1)) COMMENT 'gen_ai.operation.name',
    GenAiRequestModel LowCardinality(String) CODEC(ZSTD(1)),
    GenAiResponseModel LowCardinality(String) CODEC(ZSTD(1)),
    GenAiInputTokens UInt64 CODEC(T64, ZSTD(1)),
    GenAiOutputTokens UInt64 CODEC(T64, ZSTD(1)),
    GenAiCacheReadTokens UInt64 CODEC(T64, ZSTD(1)),
    GenAiReasoningTokens UInt64 CODEC(T64, ZSTD(1)),
    GenAiToolName LowCardinality(String) CODEC(ZSTD(1)),
    GenAiAgentName LowCardinality(String) CODEC(ZSTD(1)),
    GenAiPromptHash String CODEC(ZSTD(1)),
    GenAiCostUsd Float64 CODEC(ZSTD(1)) COMMENT 'span cost attribute, else pricing.yaml',
    GenAiCostSource LowCardinality(String) CODEC(ZSTD(1)) COMMENT 'span | pricing | unknown_model | empty',
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1,
    INDEX idx_lower_span_name lower(SpanName) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
) ENGINE = {{engine:MergeTree}}
PARTITION BY toDate(Timestamp)
PRIMARY KEY (ServiceName, SpanName, toDateTime(Timestamp))
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)
TTL toDateTime(Timestamp) + toIntervalDay({{raw_ttl_days}})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000
;
CREATE TABLE IF NOT EXISTS {{database}}.otel_traces_trace_id_ts {{on_cluster}} (
    TraceId String CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),
    End SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))
) ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toStartOfWeek(Start)
ORDER BY (TraceId)
TTL toDateTime(Start) + toIntervalDay({{raw_ttl_days}})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.otel_traces_trace_id_ts_mv {{on_cluster}}
TO {{database}}.otel_traces_trace_id_ts
AS SELECT
    TraceId,
    min(Timestamp) AS Start,
    max(Timestamp) AS End
FROM {{database}}.otel_traces
WHERE TraceId != ''
GROUP BY TraceId
