// Container health: the service's readiness endpoint answers 2xx.
const ports = { orders: 3000, users: 3001, inventory: 3002, email: 3003 };
const port = process.env.PORT ?? ports[process.env.APP] ?? 3000;
fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2500) }).then(
  (response) => process.exit(response.ok ? 0 : 1),
  () => process.exit(1),
);
