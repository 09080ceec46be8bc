/** What a consume pipeline tells its observers (`MessagingService.observe`). */
interface Observable {
  observe(observer: {
    onHandled?(): void;
    onDuplicate?(): void;
    onRetried?(): void;
    onDeadLettered?(): void;
  }): () => void;
}

/** Live counts of a service's consume outcomes from now on; `stop()` unsubscribes. */
export function countOutcomes(messaging: Observable) {
  const counts = { handled: 0, duplicates: 0, retried: 0, deadLettered: 0 };
  const stop = messaging.observe({
    onHandled: () => (counts.handled += 1),
    onDuplicate: () => (counts.duplicates += 1),
    onRetried: () => (counts.retried += 1),
    onDeadLettered: () => (counts.deadLettered += 1),
  });
  return Object.assign(counts, { stop });
}
