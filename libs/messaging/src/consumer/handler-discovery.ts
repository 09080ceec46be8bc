import { type DecodedEvent } from '@app/events';
import { Inject, Injectable } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, ExternalContextCreator, MetadataScanner, Reflector } from '@nestjs/core';
import { type EventContext } from './event-context.js';
import { EVENT_HANDLER_METADATA, type EventHandlerMetadata } from './event-handler.decorator.js';
import { HandlerDeclarationError } from '../errors.js';
import { type RegisteredHandler } from './registered-handler.js';

/** Event handlers take only custom parameter decorators (`@EventPayload`, `@EventContextParam`). */
const NO_BUILT_IN_PARAMS = { exchangeKeyForValue: () => undefined };

/** The execution context type guards and interceptors see for event handlers. */
export const AMQP_CONTEXT_TYPE = 'amqp';

/** Finds the `@EventHandler` methods of every provider and controller at boot. */
@Injectable()
export class HandlerDiscovery {
  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ExternalContextCreator) private readonly contextCreator: ExternalContextCreator,
  ) {}

  /** Every handler, wrapped so Nest guards and interceptors run around it. */
  discover(service: string): RegisteredHandler[] {
    const handlers: RegisteredHandler[] = [];
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    const seen = new Set<object>();
    /** Inbox key -> the `Class.method` that declared it. */
    const declarations = new Map<string, string>();
    for (const wrapper of wrappers) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (
        !instance ||
        typeof instance !== 'object' ||
        seen.has(instance) ||
        !wrapper.isDependencyTreeStatic()
      )
        continue;
      seen.add(instance);
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const target = instance[method];
        if (typeof target !== 'function') continue;
        const metadata = this.reflector.get<EventHandlerMetadata | undefined>(
          EVENT_HANDLER_METADATA,
          target as (...args: unknown[]) => unknown,
        );
        if (!metadata) continue;
        const callback = this.contextCreator.create(
          instance,
          target as (...args: unknown[]) => unknown,
          method,
          ROUTE_ARGS_METADATA,
          NO_BUILT_IN_PARAMS,
          undefined,
          undefined,
          undefined,
          AMQP_CONTEXT_TYPE,
        );
        const name = `${service}:${metadata.id}`;
        const declaredBy = `${instance.constructor.name}.${method}`;
        const taken = declarations.get(name);
        if (taken) {
          throw new HandlerDeclarationError(
            `${taken} and ${declaredBy} both declare the handler id '${metadata.id}' in ${service}; the id is the handler's inbox key, so each handler of a service needs its own: give one of them another id.`,
          );
        }
        declarations.set(name, declaredBy);
        handlers.push({
          type: metadata.type,
          name,
          invoke: (event: DecodedEvent, context: EventContext) =>
            callback(event, context) as Promise<unknown>,
        });
      }
    }
    return handlers;
  }
}
