import { ValidationError } from '../domain/errors.ts';
import { closestMatch } from '../lib/edit-distance.ts';
import autopilot from './autopilot/index.ts';
import campaignMonitor from './campaign-monitor/index.ts';
import iterable from './iterable/index.ts';
import type { DestinationDefinition } from './kit/define.ts';
import microsoftAdvertising from './microsoft-advertising/index.ts';
import sftp from './sftp/index.ts';

// Registration is an explicit list: a destination missing here fails at start-up, not in the middle of a run.
const all: DestinationDefinition<any>[] = [sftp, microsoftAdvertising, campaignMonitor, iterable, autopilot];

const byId = new Map<string, DestinationDefinition>();
for (const destination of all) {
  if (byId.has(destination.id)) throw new Error(`Destination id "${destination.id}" is registered twice.`);
  byId.set(destination.id, destination);
}

export function listDestinations(): DestinationDefinition[] {
  return [...all];
}

export function getDestination(id: string): DestinationDefinition {
  const destination = byId.get(id);
  if (!destination) {
    const guess = closestMatch(id, [...byId.keys()]);
    throw new ValidationError(`Unknown destination type "${id}"${guess ? `; did you mean ${guess}?` : '.'} Known types: ${[...byId.keys()].join(', ')}.`);
  }
  return destination;
}
