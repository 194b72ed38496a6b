-- Sieve migration 0006: lower write amplification of background merges on every table the loader
-- fills (directly or through a materialised view).
--
-- The loader inserts each Kafka partition's spans as soon as its previous insert is done, so at
-- moderate load a table receives several small parts a second (and each view's target one more).
-- With ClickHouse's default merge_selector_base (5) those parts were merged ~5.8 times each within a
-- minute of a steady 20k rows/s (2k-row inserts; 2.7 times in the freshness benchmark), and merging
-- was ~85 % of the local engine's CPU. With 20 a merge waits for more parts of a similar size:
-- 2.0 times (1.7 with 50), merge CPU −30 % in the freshness benchmark, at the cost of more active
-- parts (11–26 instead of 6–14 after 40 s; queries and dashboards measured no slower). README,
-- "Loader, freshness and request latency", has the figures and commands.
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
