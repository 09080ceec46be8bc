import { EVENT_FLOWS, EVENT_TYPES, exchangeOf, type ServiceName } from '@app/events';

/** A broker user's permissions on its vhost, as RabbitMQ's definitions file writes them. */
export interface BrokerPermissions {
  configure: string;
  write: string;
  read: string;
  /** Per foreign topic exchange: the binding keys it may read (bind), nothing it may write. */
  topic: { exchange: string; write: string; read: string }[];
}

const escape = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The least privilege of one service's broker user, derived from the event catalog:
 * - configure (declare, delete): only its own names, `<service>.*` (its exchanges and queues);
 *   the producers' exchanges it consumes from are checked passively, never declared;
 * - write (publish, and be the destination of a binding): its own names;
 * - read (consume, and be the source of a binding): its own names and the producers' exchanges
 *   it binds to;
 * - topic permissions on each of those exchanges: it may bind only the event types it
 *   consumes (not `#`), and publish nothing.
 */
export function brokerPermissionsOf(service: ServiceName): BrokerPermissions {
  const own = `${escape(service)}\\..*`;
  const consumed = EVENT_TYPES.filter((type) => EVENT_FLOWS[type].consumers.includes(service));
  const sources = [...new Set(consumed.map((type) => exchangeOf(type)))]
    .filter((exchange) => exchange !== `${service}.events`)
    .sort();
  return {
    configure: `^${own}$`,
    write: `^${own}$`,
    read: `^(${[own, ...sources.map(escape)].join('|')})$`,
    topic: sources.map((exchange) => ({
      exchange,
      write: '^$',
      read: `^(${consumed
        .filter((type) => exchangeOf(type) === exchange)
        .map(escape)
        .join('|')})$`,
    })),
  };
}

/** The `permissions` and `topic_permissions` of a RabbitMQ definitions file for `vhost`. */
export function definitionsPermissions(
  services: readonly ServiceName[],
  vhost = '/',
): {
  permissions: { user: string; vhost: string; configure: string; write: string; read: string }[];
  topic_permissions: {
    user: string;
    vhost: string;
    exchange: string;
    write: string;
    read: string;
  }[];
} {
  return {
    permissions: services.map((service) => {
      const { configure, write, read } = brokerPermissionsOf(service);
      return { user: service, vhost, configure, write, read };
    }),
    topic_permissions: services.flatMap((service) =>
      brokerPermissionsOf(service).topic.map((topic) => ({ user: service, vhost, ...topic })),
    ),
  };
}

/** The RabbitmqCluster of the k8s overlay (deploy/overlays/rabbitmq-cluster). */
export const OPERATOR_CLUSTER = { name: 'commerce-rabbitmq', namespace: 'rabbitmq-system' };

/**
 * The Messaging Topology Operator resources of the per-service broker users of a
 * RabbitmqCluster: a `User` (credentials from the Secret `<service>-rabbitmq-user`, keys
 * `username` and `password`), its `Permission` and its `TopicPermission`s.
 */
export function operatorResources(
  services: readonly ServiceName[],
  cluster: { name: string; namespace: string },
  vhost = '/',
): Record<string, unknown>[] {
  const reference = { rabbitmqClusterReference: { name: cluster.name } };
  const metadata = (name: string) => ({ name, namespace: cluster.namespace });
  return services.flatMap((service) => {
    const { configure, write, read, topic } = brokerPermissionsOf(service);
    return [
      {
        apiVersion: 'rabbitmq.com/v1beta1',
        kind: 'User',
        metadata: metadata(`${service}-broker-user`),
        spec: { ...reference, importCredentialsSecret: { name: `${service}-rabbitmq-user` } },
      },
      {
        apiVersion: 'rabbitmq.com/v1beta1',
        kind: 'Permission',
        metadata: metadata(`${service}-broker-permission`),
        spec: {
          ...reference,
          vhost,
          userReference: { name: `${service}-broker-user` },
          permissions: { configure, write, read },
        },
      },
      ...topic.map((grant) => ({
        apiVersion: 'rabbitmq.com/v1beta1',
        kind: 'TopicPermission',
        metadata: metadata(`${service}-broker-topic-${grant.exchange.replace(/\./g, '-')}`),
        spec: {
          ...reference,
          vhost,
          userReference: { name: `${service}-broker-user` },
          permissions: { exchange: grant.exchange, write: grant.write, read: grant.read },
        },
      })),
    ];
  });
}
