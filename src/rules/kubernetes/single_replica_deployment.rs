use k8s_openapi::api::core::v1::Container;

use crate::lang::kubernetes::{named_for_metrics, K8sObject, Part, Seg};
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
    if app.iter().any(|c| runs_datastore(c.spec)) {
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
/// software rarely reuses (Kafka's 9092 is a common metrics port, so Kafka is known by image):
/// MongoDB, Redis, AMQP, PostgreSQL, MySQL, Cassandra, ZooKeeper, etcd, Neo4j, CouchDB,
/// CockroachDB, SQL Server.
const DATASTORE_PORTS: &[i32] = &[
    27017, 6379, 5672, 5432, 3306, 9042, 2181, 2379, 7687, 5984, 26257, 1433,
];

/// Whether a container runs a store: by its image's name or the protocol port it declares (a
/// port named for metrics is a metrics port, whatever its number).
fn runs_datastore(c: &Container) -> bool {
    let image = c.image.as_deref().unwrap_or("");
    let name = crate::lang::image::name(image).to_ascii_lowercase();
    DATASTORE_IMAGES.contains(&name.as_str())
        || (c.ports.iter().flatten()).any(|p| {
            DATASTORE_PORTS.contains(&p.container_port)
                && !p.name.as_deref().is_some_and(named_for_metrics)
        })
}
