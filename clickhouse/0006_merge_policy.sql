-- Sieve migration 0006: lower write amplification of background merges on every table the loader
-- fills (directly or through a materialised view).
--
-- The loader inserts each Kafka partition's spans as soon as its previous insert is done, so at
-- moderate load a table receives several small parts a second (and each view's target one more).
-- With ClickHouse's default merge_selector_base (5) those parts were merged ~5.8 times each within a
-- minute of a steady 20k rows/s (2k-row inserts), and merging was 72–89 % of the CPU of the local
-- engine's long-lived threads. With 20 a merge waits for more parts of a similar size: 2.0 times
-- (1.7 with 50); in the freshness benchmark at 20k spans/s 2.3–3.6 rows merged per span became
-- 0.9–1.9 and the merge threads' CPU fell by 40–60 %, at the cost of more active parts (11–26
-- instead of 6–14 after 40 s; the freshness poll's query no slower). README, "Loader, freshness
-- and request latency", has the figures and commands.
--
-- A server that does not know the setting (older than the engine Sieve is tested with) keeps its
-- default: the migration runner skips a MODIFY SETTING that the server refuses as UNKNOWN_SETTING.
ALTER TABLE {{database}}.otel_traces {{on_cluster}} MODIFY SETTING merge_selector_base = 20
;
ALTER TABLE {{database}}.otel_traces_trace_id_ts {{on_cluster}} MODIFY SETTING merge_selector_base = 20
;
ALTER TABLE {{database}}.spans_1m {{on_cluster}} MODIFY SETTING merge_selector_base = 20
;
ALTER TABLE {{database}}.llm_1m {{on_cluster}} MODIFY SETTING merge_selector_base = 20
;
ALTER TABLE {{database}}.otel_logs {{on_cluster}} MODIFY SETTING merge_selector_base = 20
;
ALTER TABLE {{database}}.logs_1m {{on_cluster}} MODIFY SETTING merge_selector_base = 20
;
ALTER TABLE {{database}}.otel_metrics_gauge {{on_cluster}} MODIFY SETTING merge_selector_base = 20
;
ALTER TABLE {{database}}.otel_metrics_sum {{on_cluster}} MODIFY SETTING merge_selector_base = 20
;
ALTER TABLE {{database}}.otel_metrics_histogram {{on_cluster}} MODIFY SETTING merge_selector_base = 20
;
ALTER TABLE {{database}}.otel_metrics_exp_histogram {{on_cluster}} MODIFY SETTING merge_selector_base = 20
;
ALTER TABLE {{database}}.otel_metrics_summary {{on_cluster}} MODIFY SETTING merge_selector_base = 20
;
ALTER TABLE {{database}}.metrics_1m {{on_cluster}} MODIFY SETTING merge_selector_base = 20
