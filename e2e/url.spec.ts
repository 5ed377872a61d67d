import { expect, test, type Page } from '@playwright/test';
import { BASE_URL, collectPageErrors } from './helpers';

/** Form control name (see src/ui/form) → the value it must show. */
type FormValues = Record<string, string>;

const DEFAULTS: FormValues = {
  'data.source': 'synthetic',
  'data.syntheticSize': '5000',
  'train.model': 'tiny',
  'train.epochs': '3',
  'train.batchSize': '64',
  'train.lr': '0.05',
  'train.momentum': '0.9',
  'train.weightDecay': '0.0005',
  'train.lrSchedule': 'cosine',
  'train.seed': '1',
  'prune.pruner': 'depgraph',
  'prune.schedule': 'sr',
  'prune.target': '0.5',
  'prune.decaySteps': '30',
  'prune.tRate': '1',
  backend: 'webgpu',
};

async function expectForm(page: Page, values: FormValues): Promise<void> {
  for (const [name, value] of Object.entries(values)) {
    await expect(page.locator(`form [name="${name}"]`), name).toHaveValue(value);
  }
}

const SHARED = '/?v=1&syn=300&aug=0&m=resnet20&ep=7&bs=32&lr=0.02&lrs=step&seed=42&pr=otov2&sch=sp&t=0.6&N=12&be=cpu';
const SHARED_FORM: FormValues = {
  ...DEFAULTS,
  'data.syntheticSize': '300',
  'train.model': 'resnet20',
  'train.epochs': '7',
  'train.batchSize': '32',
  'train.lr': '0.02',
  'train.lrSchedule': 'step',
  'train.seed': '42',
  'prune.pruner': 'otov2',
  'prune.schedule': 'sp',
  'prune.target': '0.6',
  'prune.decaySteps': '12',
  backend: 'cpu',
};

test('a shared URL opens with exactly its values in the form', async ({ page }) => {
  const errors = collectPageErrors(page);
  await page.goto(SHARED);
  await expectForm(page, SHARED_FORM);
  await expect(page.locator('form [name="data.augment"]')).not.toBeChecked();
  await expect(page.getByTestId('url-notice')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('the Share button gives a URL that reopens the same config', async ({ browser }) => {
  const context = await browser.newContext();
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE_URL });
  const page = await context.newPage();
  await page.goto(SHARED);
  await expectForm(page, SHARED_FORM);
  // An edit after loading must reach the shared link too.
  await page.locator('form [name="train.epochs"]').fill('9');
  await page.locator('form [name="prune.schedule"]').selectOption('abrupt');
  await page.getByTestId('share-button').click();
  await expect(page.getByTestId('share-button')).toHaveText('copied');
  const shared = await page.evaluate(() => navigator.clipboard.readText());
  expect(shared.startsWith(`${BASE_URL}/?v=1&`)).toBe(true);
  await context.close();

  const fresh = await browser.newContext();
  const reopened = await fresh.newPage();
  await reopened.goto(shared);
  await expectForm(reopened, { ...SHARED_FORM, 'train.epochs': '9', 'prune.schedule': 'abrupt' });
  await expect(reopened.locator('form [name="data.augment"]')).not.toBeChecked();
  await expect(reopened.getByTestId('url-notice')).toHaveCount(0);
  await fresh.close();
});

test('a hostile URL leaves the page intact, lists what it ignored as text, and keeps defaults', async ({ page }) => {
  const errors = collectPageErrors(page);
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const long = 'A'.repeat(10 * 1024);
  const hostile = [
    'v=1',
    `m=${encodeURIComponent('<script>alert(1)</script>')}`,
    `seed=${encodeURIComponent('<img src=x onerror=alert(2) id=injected>')}`,
    '__proto__%5Bpolluted%5D=1',
    '__proto__=x',
    'constructor=y',
    'bs=1e12',
    'ep=NaN',
    'lr=Infinity',
    'zz=unknown',
    `du=${long}`,
    'syn=150',
  ].join('&');
  await page.goto(`/?${hostile}`);

  await expect(page.getByRole('heading', { name: 'DPM Playground' })).toBeVisible();
  await expect(page.getByTestId('start-button')).toBeEnabled();

  const notice = page.getByTestId('url-notice');
  await expect(notice).toBeVisible();
  const items = notice.locator('.ignored-list li');
  await expect(items).toHaveCount(10);
  await expect(items.filter({ hasText: 'm (train.model)' })).toContainText('<script>alert(1)</script>');
  await expect(items.filter({ hasText: 'seed (train.seed)' })).toContainText('<img src=x onerror=alert(2) id=injected>');
  await expect(items.filter({ hasText: 'bs (train.batchSize)' })).toContainText('1e12');
  await expect(items.filter({ hasText: 'ep (train.epochs)' })).toContainText('NaN');
  await expect(items.filter({ hasText: 'lr (train.lr)' })).toContainText('Infinity');
  await expect(items.filter({ hasText: '__proto__[polluted]' })).toHaveCount(1);
  await expect(items.filter({ hasText: /^__proto__ = x/ })).toHaveCount(1);
  await expect(items.filter({ hasText: /^constructor = y/ })).toHaveCount(1);
  await expect(items.filter({ hasText: /^zz = unknown/ })).toHaveCount(1);
  const du = items.filter({ hasText: 'du (data.url)' });
  await expect(du).toContainText('longer than 2048 characters');
  // The echo is cut short: a 10 KB value must not be pasted into the page.
  expect((await du.textContent())!.length).toBeLessThan(400);

  // Shown as text: nothing from the URL became an element, and nothing ran.
  await expect(page.locator('#injected')).toHaveCount(0);
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
  expect(await page.locator('script').evaluateAll((els) => els.filter((s) => !(s as HTMLScriptElement).src).length)).toBe(0);
  expect(await page.evaluate(() => (Object.prototype as Record<string, unknown>).polluted ?? null)).toBeNull();

  // The ignored fields show their defaults; the one valid field is kept.
  await expectForm(page, { ...DEFAULTS, 'data.syntheticSize': '150' });
  // The address bar now carries the clean config only.
  expect(new URL(page.url()).search).toBe('?v=1&syn=150');

  expect(dialogs).toEqual([]);
  expect(errors).toEqual([]);
});
