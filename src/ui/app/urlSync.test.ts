import { describe, expect, it } from 'vitest';
import { defaultExperiment } from '../../engine/experiment';
import { createSessionStore } from '../../store/sessionStore';
import { encode } from '../../url/codec';
import { describeIgnored, loadConfigFromUrl, reflectConfigInUrl } from './urlSync';

function fakeLocation(search: string) {
  const loc = { pathname: '/app/', search, hash: '#x' } as Location;
  const calls: string[] = [];
  const history = {
    state: null,
    replaceState: (_s: unknown, _t: string, url: string) => {
      calls.push(url);
      loc.search = url.slice(url.indexOf('?'), url.indexOf('#'));
    },
  } as unknown as History;
  return { loc, history, calls };
}

describe('URL sync', () => {
  it('loads a config from the query and lists what it ignored', () => {
    const session = createSessionStore();
    const config = defaultExperiment();
    config.train.epochs = 7;
    loadConfigFromUrl(session, `?${encode(config)}&zz=1`);
    expect(session.getState().config.train.epochs).toBe(7);
    const ignored = session.getState().urlIgnored;
    expect(ignored.length).toBe(1);
    expect(ignored[0].field).toBe('zz');
    expect(ignored[0].value).toBe('1');
    expect(ignored[0].reason.length).toBeGreaterThan(0);
  });

  it('names known fields by their config path', () => {
    expect(describeIgnored([{ key: 'ds', value: 'imagenet', reason: 'bad' }])[0].field).toBe('ds (data.dataset)');
  });

  it('writes every config change back to the URL, once per change', () => {
    const session = createSessionStore();
    const { loc, history, calls } = fakeLocation('');
    const stop = reflectConfigInUrl(session, history, loc);
    expect(calls).toEqual(['/app/?v=1#x']);
    const c = defaultExperiment();
    c.prune.tRate = 0.9;
    session.getState().setConfig(c);
    expect(calls.length).toBe(2);
    expect(calls[1]).toBe(`/app/?${encode(c)}#x`);
    session.getState().setEngineError('unrelated');
    expect(calls.length).toBe(2);
    stop();
    session.getState().setConfig(defaultExperiment());
    expect(calls.length).toBe(2);
  });
});
