use k8s_openapi::api::core::v1::Container;

use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::kubernetes::is_placeholder;
use crate::rules::{rule_doc, Check, Ctx, K8sCondition, Rule};

pub static RULE: Rule = Rule {
    name: "single-replica-deployment",
    doc: rule_doc!("single-replica-deployment"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    let Some(replicas) = obj.replicas() else {
        return;
    };
    if replicas.is_some_and(|r| r != 1) {
        return;
    }
    let Some(workload) = obj.workload() else {
        return;
    };
    // A pod of placeholders (a `sleep infinity` client to exec into) serves nothing, whatever
    // selects it.
    let containers = obj.containers();
    let app: Vec<_> = containers.iter().filter(|c| !c.init).collect();
    if !app.is_empty() && app.iter().all(|c| is_placeholder(c.spec)) {
        return;
    }
    // A single database or broker is not made available by `replicas: 2`: each replica would be
    // an independent store with its own data. It takes the store's own replication.
    if app.iter().any(|c| datastore(c.spec).is_some()) {
        return;
    }
    let (span, what) = match replicas {
        Some(_) => (
            obj.span(&[Seg::Key("spec"), Seg::Key("replicas")], Part::Value),
            "`replicas: 1`",
        ),
        None => (
            obj.span(&[Seg::Key("metadata"), Seg::Key("name")], Part::Value),
            "no `replicas` (so 1)",
        ),
    };
    cx.report(
        span,
        format!("{} `{}` serves a Service with {what} and no autoscaler: every rollout, node drain or crash is an outage", obj.kind(), obj.name()),
    )
    .help("run at least 2 replicas (spread across nodes with `topologySpreadConstraints`), or scale it with a HorizontalPodAutoscaler whose `minReplicas` is 2 or more")
    .when_k8s(K8sCondition::ServedAndNotAutoscaled(workload));
}

/// Images of databases, brokers and coordination stores, by name (the last path component:
/// `bitnami/redis`, `docker.io/library/mongo`).
const DATASTORE_IMAGES: &[&str] = &[
    "mongo",
    "mongodb",
    "mongodb-community-server",
    "redis",
    "redis-stack-server",
    "valkey",
    "keydb",
    "rabbitmq",
    "postgres",
    "postgresql",
    "postgis",
    "mysql",
    "mariadb",
    "percona-server",
    "elasticsearch",
    "opensearch",
    "cassandra",
    "scylla",
    "kafka",
    "cp-kafka",
    "zookeeper",
    "etcd",
    "neo4j",
    "couchdb",
    "clickhouse-server",
    "cockroach",
    "mssql-server",
    "minio",
];

/// The default ports of those stores' protocols: a container that serves one is the store,
/// whatever its image is called (`weaveworksdemos/user-db` serving 27017). Only ports other
/// software rarely reuses (Kafka's 9092 is a common metrics port, so Kafka is known by image).
const DATASTORE_PORTS: &[(i32, &str)] = &[
    (27017, "MongoDB"),
    (6379, "Redis"),
    (5672, "AMQP"),
    (5432, "PostgreSQL"),
    (3306, "MySQL"),
    (9042, "Cassandra"),
    (2181, "ZooKeeper"),
    (2379, "etcd"),
    (7687, "Neo4j"),
    (5984, "CouchDB"),
    (26257, "CockroachDB"),
    (1433, "SQL Server"),
];

/// What store a container runs, if it runs one: by its image's name or the protocol port it
/// declares.
fn datastore(c: &Container) -> Option<&str> {
    let image = c.image.as_deref().unwrap_or("");
    let name = crate::lang::image::name(image).to_ascii_lowercase();
    if let Some(store) = DATASTORE_IMAGES.iter().find(|s| **s == name) {
        return Some(store);
    }
    // A port named for metrics is a metrics port, whatever its number.
    let ports = (c.ports.iter().flatten())
        .filter(|p| !p.name.as_deref().is_some_and(|n| n.contains("metrics")));
    ports
        .filter_map(|p| DATASTORE_PORTS.iter().find(|(n, _)| *n == p.container_port))
        .map(|(_, store)| *store)
        .next()
}
