import { ApplicationFailure } from '@temporalio/activity';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { engineOrHostLost } from '../../activities/engine.js';

const answering = { ping: async () => 'OK' } as unknown as Docker;
const silent = { ping: async () => Promise.reject(new Error('connect ENOENT /run/docker.sock')) } as unknown as Docker;

async function failureOf(check: Promise<void>): Promise<ApplicationFailure> {
  const err = await check.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('engineOrHostLost: a container activity on a host whose Docker engine does not answer', () => {
  it('is retried while the engine has been down for less than the host timeout, then fails as HostLost; an answer resets the clock', async () => {
    let now = 1_000_000;
    const clock = () => now;
    await engineOrHostLost(60, answering, clock);

    const first = await failureOf(engineOrHostLost(60, silent, clock));
    expect([first.type, first.nonRetryable]).toEqual(['EngineUnreachable', false]);
    expect(first.message).toMatch(/does not answer \(for 0 s\): connect ENOENT/);
    now += 59_000;
    expect((await failureOf(engineOrHostLost(60, silent, clock))).type).toBe('EngineUnreachable');
    now += 1_000;
    const lost = await failureOf(engineOrHostLost(60, silent, clock));
    expect([lost.type, lost.nonRetryable]).toEqual(['HostLost', true]);
    expect(lost.message).toMatch(/for 60 s.*moves to another host/);

    await engineOrHostLost(60, answering, clock);
    now += 3_600_000;
    expect((await failureOf(engineOrHostLost(60, silent, clock))).type).toBe('EngineUnreachable');
  });

  it('without a host timeout (a run from before moves) is retried however long the engine is down', async () => {
    let now = 0;
    await engineOrHostLost(undefined, answering, () => now);
    await failureOf(engineOrHostLost(undefined, silent, () => now));
    now += 24 * 3_600_000;
    expect((await failureOf(engineOrHostLost(undefined, silent, () => now))).type).toBe('EngineUnreachable');
  });
});
