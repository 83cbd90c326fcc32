"""test_sensor_kafka.py — DAG topic sensors on a file whose topic: blocks
live on Kafka (topics.kafka), against a real broker started by
tests/servers/kafka.sh: a sensor waits until a continuous pipeline's group
has committed everything the DAG's ingest wrote (then the sink holds all of
it), and another waits for a record with an event time past its run's
interval end, produced by an independent client (confluent-kafka)."""
import time
import uuid

from kafka_server import kafka_broker  # noqa: F401  (the session fixture)
from test_scheduler import query, wait_until
from test_server import Server

CONFIG = """\
topics:
  kafka: {{ brokers: "{brokers}" }}
pipelines:
  ingest:
    source: {{ generator: {{ kind: sequence, count: 700, start: beginning }} }}
    sink:   {{ topic: {{ name: {topic}, partitions: 3, key: id }} }}
  keep:
    source: {{ topic: {{ name: {topic}, group: {group} }} }}
    sink:   {{ file: {{ path: {out} }} }}
    commit_interval: 100ms
dags:
  load:
    tasks:
      ingest: {{ pipeline: ingest }}
      all_kept: {{ sensor: {{ topic: {topic}, group: {group}, poke_interval: 1s }}, depends_on: [ingest], timeout: 5m }}
      count: {{ shell: 'wc -l < {out} > {counted}', depends_on: [all_kept] }}
  late:
    schedule: {{ every: 1h }}
    tasks:
      past_end: {{ sensor: {{ topic: {late_topic}, until: event_time_past_interval_end, poke_interval: 1s }},
                  timeout: 5m }}
http: {{ listen: "127.0.0.1:0" }}
"""


def test_sensors_watch_topics_on_kafka(sluice, workdir, kafka_broker):  # noqa: F811
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    suffix = uuid.uuid4().hex[:8]
    topic, late_topic, group = f"sensed_{suffix}", f"late_{suffix}", f"keep_{suffix}"
    admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap})
    for future in admin.create_topics([NewTopic(late_topic, num_partitions=2, replication_factor=1)]).values():
        future.result(60)
    out, counted = workdir / "kept.jsonl", workdir / "counted.txt"
    config = CONFIG.format(brokers=kafka_broker.bootstrap, topic=topic, group=group, out=out, counted=counted,
                           late_topic=late_topic)
    server = Server(sluice, workdir, config).wait_started(timeout=120)
    meta = workdir / "data" / "metadata.db"
    try:
        status, body = server.request("POST", "/api/v1/dags/load/runs", b"{}")
        assert status == 201, body
        wait_until("the load run ended", lambda: query(meta, "SELECT state FROM dag_runs WHERE dag_id = 'load' AND "
                                                             "state IN ('success', 'failed')"),
                   timeout=300, server=server)
        states = dict(query(meta, "SELECT task_id, ti.state FROM task_instances ti JOIN dag_runs r ON r.id = ti.run "
                                  "WHERE r.dag_id = 'load'"))
        assert states == {"ingest": "success", "all_kept": "success", "count": "success"}, (states, server.stderr())
        # The sensor was met only once the group had committed all 700, so the file held them all.
        assert counted.read_text().strip() == "700"
        (tail,), = query(meta, "SELECT CAST(log_tail AS TEXT) FROM task_instances WHERE task_id = 'all_kept'")
        assert "has read all 3 partitions" in tail and "(Kafka)" in tail, tail

        # The hourly run's sensor waits: the late topic has no record past its interval end yet.
        wait_until("the late sensor poking", lambda: query(meta, "SELECT 1 FROM task_instances WHERE "
                                                                 "task_id = 'past_end' AND state = 'running'"),
                   timeout=120, server=server)
        time.sleep(3)
        assert query(meta, "SELECT state FROM task_instances WHERE task_id = 'past_end'") == [("running",)]
        producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
        producer.produce(late_topic, value=b'{"late": true}', partition=1, timestamp=int(time.time() * 1000))
        assert producer.flush(60) == 0
        wait_until("the late sensor met", lambda: query(meta, "SELECT 1 FROM task_instances WHERE "
                                                              "task_id = 'past_end' AND state = 'success'"),
                   timeout=120, server=server)
        (tail,), = query(meta, "SELECT CAST(log_tail AS TEXT) FROM task_instances WHERE task_id = 'past_end'")
        assert "partition 1 offset 0 has a timestamp at or past" in tail, tail
    finally:
        code = server.stop(timeout=120)
    assert code == 0, server.stderr()
