#!/usr/bin/env bash
# npm run test:rabbitmq4: the integration and end-to-end suites (the short fault suite
# included) once more, on RabbitMQ 4 from Debian trixie (built into a chroot by
# rabbitmq4-root.sh). Its node stands in for the machine's broker, and the suites' own nodes
# (the fault suite's, the alarm test's) come from the same installation.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(bash scripts/infra/rabbitmq4-root.sh)
eval "$(npx tsx scripts/infra/test-broker.ts start --root "$ROOT" --name rabbitmq4)"
trap 'npx tsx scripts/infra/test-broker.ts stop "$TEST_BROKER_NODE"' EXIT
export TEST_AMQP_BASE RABBITMQ_MANAGEMENT_URL TEST_RABBITMQ_ROOT
npm run test:int
npm run test:e2e
