-- Sieve migration 0004: minute rollups (AggregatingMergeTree fed by materialized views) and readable views.
CREATE TABLE IF NOT EXISTS {{database}}.spans_1m {{on_cluster}} (
    Minute DateTime CODEC(Delta, ZSTD(1)),
    TenantId LowCardinality(String),
    Environment LowCardinality(String),
    ServiceName LowCardinality(String),
    SpanName LowCardinality(String),
    SpanKind LowCardinality(String),
    StatusCode LowCardinality(String),
    Calls SimpleAggregateFunction(sum, UInt64),
    Errors SimpleAggregateFunction(sum, UInt64) COMMENT 'spans with StatusCode = Error',
    DurationSumNs SimpleAggregateFunction(sum, UInt64),
    DurationState AggregateFunction(quantilesTDigest(0.5, 0.9, 0.95, 0.99), UInt64) COMMENT 'span Duration in ns'
) ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(Minute)
ORDER BY (TenantId, ServiceName, SpanName, Minute, Environment, SpanKind, StatusCode)
TTL Minute + toIntervalDay({{rollup_ttl_days}})
SETTINGS non_replicated_deduplication_window = 1000
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.spans_1m_mv {{on_cluster}} TO {{database}}.spans_1m
AS SELECT
    toStartOfMinute(toDateTime(Timestamp)) AS Minute,
    TenantId, Environment, ServiceName, SpanName, SpanKind, StatusCode,
    toUInt64(count()) AS Calls,
    toUInt64(countIf(StatusCode = 'Error')) AS Errors,
    toUInt64(sum(Duration)) AS DurationSumNs,
    quantilesTDigestState(0.5, 0.9, 0.95, 0.99)(Duration) AS DurationState
FROM {{database}}.otel_traces
GROUP BY Minute, TenantId, Environment, ServiceName, SpanName, SpanKind, StatusCode
;
CREATE TABLE IF NOT EXISTS {{database}}.llm_1m {{on_cluster}} (
    Minute DateTime CODEC(Delta, ZSTD(1)),
    TenantId LowCardinality(String),
    Environment LowCardinality(String),
    ServiceName LowCardinality(String),
    Provider LowCardinality(String),
    Model LowCardinality(String) COMMENT 'GenAiResponseModel if set, else GenAiRequestModel',
    Operation LowCardinality(String),
    ToolName LowCardinality(String),
    AgentName LowCardinality(String),
    Calls SimpleAggregateFunction(sum, UInt64),
    Errors SimpleAggregateFunction(sum, UInt64),
    DurationSumNs SimpleAggregateFunction(sum, UInt64),
    DurationState AggregateFunction(quantilesTDigest(0.5, 0.9, 0.95, 0.99), UInt64),
    InputTokens SimpleAggregateFunction(sum, UInt64),
    OutputTokens SimpleAggregateFunction(sum, UInt64),
    CacheReadTokens SimpleAggregateFunction(sum, UInt64),
    ReasoningTokens SimpleAggregateFunction(sum, UInt64),
    CostUsd SimpleAggregateFunction(sum, Float64)
) ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(Minute)
ORDER BY (TenantId, Provider, Model, Minute, Environment, ServiceName, Operation, ToolName, AgentName)
TTL Minute + toIntervalDay({{rollup_ttl_days}})
SETTINGS non_replicated_deduplication_window = 1000
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.llm_1m_mv {{on_cluster}} TO {{database}}.llm_1m
AS SELECT
    toStartOfMinute(toDateTime(Timestamp)) AS Minute,
    TenantId, Environment, ServiceName,
    GenAiProvider AS Provider,
    if(GenAiResponseModel != '', GenAiResponseModel, GenAiRequestModel) AS Model,
    GenAiOperation AS Operation,
    GenAiToolName AS ToolName,
    GenAiAgentName AS AgentName,
    toUInt64(count()) AS Calls,
    toUInt64(countIf(StatusCode = 'Error')) AS Errors,
    toUInt64(sum(Duration)) AS DurationSumNs,
    quantilesTDigestState(0.5, 0.9, 0.95, 0.99)(Duration) AS DurationState,
    toUInt64(sum(GenAiInputTokens)) AS InputTokens,
    toUInt64(sum(GenAiOutputTokens)) AS OutputTokens,
    toUInt64(sum(GenAiCacheReadTokens)) AS CacheReadTokens,
    toUInt64(sum(GenAiReasoningTokens)) AS ReasoningTokens,
    toFloat64(sum(GenAiCostUsd)) AS CostUsd
FROM {{database}}.otel_traces
WHERE GenAiOperation != ''
GROUP BY Minute, TenantId, Environment, ServiceName, Provider, Model, Operation, ToolName, AgentName
;
CREATE TABLE IF NOT EXISTS {{database}}.logs_1m {{on_cluster}} (
    Minute DateTime CODEC(Delta, ZSTD(1)),
    TenantId LowCardinality(String),
    Environment LowCardinality(String),
    ServiceName LowCardinality(String),
    SeverityText LowCardinality(String),
    SeverityNumber UInt8,
    Count SimpleAggregateFunction(sum, UInt64)
) ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(Minute)
ORDER BY (TenantId, ServiceName, Minute, Environment, SeverityText, SeverityNumber)
TTL Minute + toIntervalDay({{rollup_ttl_days}})
SETTINGS non_replicated_deduplication_window = 1000
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.logs_1m_mv {{on_cluster}} TO {{database}}.logs_1m
AS SELECT
    toStartOfMinute(TimestampTime) AS Minute,
    TenantId, Environment, ServiceName, SeverityText, SeverityNumber,
    toUInt64(count()) AS Count
FROM {{database}}.otel_logs
GROUP BY Minute, TenantId, Environment, ServiceName, SeverityText, SeverityNumber
;
CREATE VIEW IF NOT EXISTS {{database}}.spans_1m_v {{on_cluster}} AS
SELECT
    Minute, TenantId, Environment, ServiceName, SpanName, SpanKind, StatusCode,
    sum(Calls) AS Calls,
    sum(Errors) AS Errors,
    sum(DurationSumNs) AS DurationSumNs,
    quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(DurationState) AS Q,
    Q[1] / 1e6 AS P50Ms, Q[2] / 1e6 AS P90Ms, Q[3] / 1e6 AS P95Ms, Q[4] / 1e6 AS P99Ms
FROM {{database}}.spans_1m
GROUP BY Minute, TenantId, Environment, ServiceName, SpanName, SpanKind, StatusCode
;
CREATE VIEW IF NOT EXISTS {{database}}.llm_1m_v {{on_cluster}} AS
SELECT
    Minute, TenantId, Environment, ServiceName, Provider, Model, Operation, ToolName, AgentName,
    sum(Calls) AS Calls,
    sum(Errors) AS Errors,
    sum(DurationSumNs) AS DurationSumNs,
    quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(DurationState) AS Q,
    Q[1] / 1e6 AS P50Ms, Q[2] / 1e6 AS P90Ms, Q[3] / 1e6 AS P95Ms, Q[4] / 1e6 AS P99Ms,
    sum(InputTokens) AS InputTokens,
    sum(OutputTokens) AS OutputTokens,
    sum(CacheReadTokens) AS CacheReadTokens,
    sum(ReasoningTokens) AS ReasoningTokens,
    sum(CostUsd) AS CostUsd
FROM {{database}}.llm_1m
GROUP BY Minute, TenantId, Environment, ServiceName, Provider, Model, Operation, ToolName, AgentName
;
CREATE VIEW IF NOT EXISTS {{database}}.logs_1m_v {{on_cluster}} AS
SELECT
    Minute, TenantId, Environment, ServiceName, SeverityText, SeverityNumber,
    sum(Count) AS Count
FROM {{database}}.logs_1m
GROUP BY Minute, TenantId, Environment, ServiceName, SeverityText, SeverityNumber
