/** Architectural boundaries (STYLE.md rule 10), checked by `npm run lint`. */
module.exports = {
  forbidden: [
    {
      name: 'events-imports-nothing-of-ours',
      comment:
        'libs/events is the contract: usable by a non-Nest consumer, it imports no other lib or app.',
      severity: 'error',
      from: { path: '^libs/events' },
      to: { path: '^(apps|libs/(?!events))' },
    },
    {
      name: 'events-no-nest',
      comment: 'libs/events must not depend on NestJS, TypeORM or the broker client.',
      severity: 'error',
      from: { path: '^libs/events/src' },
      to: { path: 'node_modules/(@nestjs|typeorm|amqplib|amqp-connection-manager)' },
    },
    {
      name: 'no-app-to-app',
      comment: 'No app imports another app; they talk through events and the gateway HTTP call.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'only-apps-compose-services',
      comment:
        'libs/service is the composition root the apps share; no library builds on it, so the transport and the platform stay usable on their own.',
      severity: 'error',
      from: { path: '^libs/', pathNot: '^libs/service/' },
      to: { path: '^libs/service/' },
    },
    {
      name: 'libs-never-import-apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'domain-is-pure',
      comment:
        'Business decisions (a folder named domain, or a *-decision.ts file) import no infrastructure: no framework, driver or transport package, and none of our libraries but the event contract.',
      severity: 'error',
      from: { path: '(/domain/|-decision\\.ts$)' },
      to: {
        path: '(node_modules/(@nestjs|typeorm|pg|pg-[a-z-]+|amqplib|amqp-connection-manager|nodemailer|pino|prom-client|@opentelemetry)/|^libs/(messaging|platform|service|testing)/)',
      },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
