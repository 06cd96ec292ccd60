import type Database from 'better-sqlite3';
import { isoTimestamp, type ProductRecord, slugify, toCents, toDecimal } from './repository.js';

/*
 * Demo data, built from the row number alone so every seed of the same size is identical: no
 * randomness, and tests can predict any record. Names stay unique by construction (category,
 * noun, brand and series are the digits of one mixed-radix number), so slugs and SKUs do too.
 */

interface Category {
  code: string;
  path: [string, string];
  nouns: string[];
  dollars: [number, number];
  features: string[];
  blurb: string;
  tags: string[];
  trait: [string, string[]];
}

const CATEGORIES: Category[] = [
  {
    code: 'AUD',
    path: ['Electronics', 'Audio'],
    nouns: ['Wireless Headphones', 'Earbuds', 'Bluetooth Speaker', 'Soundbar', 'Studio Monitor', 'Turntable'],
    dollars: [29, 399],
    features: ['40-hour battery', 'Active noise cancelling', 'Bluetooth 5.3', 'USB-C fast charging', 'IPX5'],
    blurb: 'Tuned for long listening sessions and covered by a two-year warranty.',
    tags: ['wireless', 'bluetooth', 'audio', 'hi-fi', 'portable'],
    trait: ['connectivity', ['Bluetooth 5.3', 'Wired', 'Bluetooth + Wired']],
  },
  {
    code: 'KIT',
    path: ['Home', 'Kitchen'],
    nouns: [
      'Chef Knife',
      'Cast Iron Skillet',
      'Pour-Over Kettle',
      'Cutting Board',
      'Coffee Grinder',
      'Dutch Oven',
    ],
    dollars: [19, 249],
    features: ['Dishwasher safe', 'Lifetime warranty', 'Induction ready', 'Hand finished', 'Pre-seasoned'],
    blurb: 'Made to be used every day and handed down.',
    tags: ['kitchen', 'cookware', 'gift', 'chef', 'home'],
    trait: ['material', ['Stainless steel', 'Cast iron', 'Walnut', 'Ceramic']],
  },
  {
    code: 'APP',
    path: ['Apparel', 'Outerwear'],
    nouns: ['Hoodie', 'Rain Jacket', 'Fleece Pullover', 'Puffer Vest', 'Wool Beanie', 'Trail Pants'],
    dollars: [24, 229],
    features: ['Organic cotton', 'Recycled polyester', 'Water repellent', 'Relaxed fit', 'Machine washable'],
    blurb: 'Cut for layering and built to last season after season.',
    tags: ['apparel', 'outerwear', 'unisex', 'organic', 'layering'],
    trait: ['size', ['XS', 'S', 'M', 'L', 'XL']],
  },
  {
    code: 'OUT',
    path: ['Outdoors', 'Camping'],
    nouns: ['Backpack', 'Tent', 'Sleeping Bag', 'Headlamp', 'Camp Stove', 'Water Filter'],
    dollars: [15, 499],
    features: ['Ultralight', '3-season rated', 'Packs down small', 'Rechargeable', 'Rip-stop nylon'],
    blurb: 'Field tested on long trails before it reaches the shelf.',
    tags: ['camping', 'hiking', 'outdoors', 'ultralight', 'travel'],
    trait: ['capacity', ['1 person', '2 person', '20 L', '35 L', '50 L']],
  },
  {
    code: 'OFF',
    path: ['Home', 'Office'],
    nouns: ['Desk Lamp', 'Notebook', 'Monitor Stand', 'Ergonomic Chair', 'Fountain Pen', 'Desk Mat'],
    dollars: [9, 599],
    features: ['Adjustable height', 'Dimmable LED', 'Acid-free paper', 'Vegan leather', 'Five-year warranty'],
    blurb: 'Designed for a tidy desk and long days of focused work.',
    tags: ['office', 'desk', 'work-from-home', 'stationery', 'ergonomic'],
    trait: ['finish', ['Matte black', 'Oak', 'Brushed aluminium', 'White']],
  },
  {
    code: 'SKN',
    path: ['Beauty', 'Skincare'],
    nouns: ['Face Serum', 'Moisturizer', 'Cleansing Balm', 'Mineral Sunscreen', 'Lip Balm', 'Eye Cream'],
    dollars: [8, 89],
    features: ['Fragrance free', 'Vegan', 'SPF 50', 'Hyaluronic acid', 'For sensitive skin'],
    blurb: 'Dermatologist tested and packed in recyclable glass.',
    tags: ['skincare', 'vegan', 'cruelty-free', 'sensitive-skin', 'daily'],
    trait: ['volume', ['15 ml', '30 ml', '50 ml', '100 ml']],
  },
  {
    code: 'FIT',
    path: ['Sports', 'Fitness'],
    nouns: ['Yoga Mat', 'Kettlebell', 'Resistance Bands', 'Jump Rope', 'Foam Roller', 'Water Bottle'],
    dollars: [9, 149],
    features: ['Non-slip grip', 'Sweat resistant', 'Includes carry strap', 'BPA free', 'Compact'],
    blurb: 'Home-gym gear that earns its place in a small apartment.',
    tags: ['fitness', 'yoga', 'home-gym', 'training', 'recovery'],
    trait: ['weight', ['0.5 kg', '1 kg', '8 kg', '12 kg', '16 kg']],
  },
  {
    code: 'TOY',
    path: ['Toys', 'Games'],
    nouns: ['Jigsaw Puzzle', 'Board Game', 'Building Set', 'Plush Bear', 'Card Game', 'Stunt Kite'],
    dollars: [9, 129],
    features: ['Ages 8+', '2-6 players', '1000 pieces', 'Made from FSC wood', 'Travel size'],
    blurb: 'Screen-free fun for family evenings.',
    tags: ['toys', 'games', 'family', 'gift', 'kids'],
    trait: ['age', ['3+', '6+', '8+', '12+']],
  },
];

const BRANDS = [
  'Aurora',
  'Summit',
  'Nordic',
  'Harbor',
  'Ember',
  'Atlas',
  'Willow',
  'Cobalt',
  'Sierra',
  'Meridian',
  'Juniper',
  'Granite',
  'Lumen',
  'Pioneer',
  'Alder',
  'Tidal',
];

const COLORS = ['Black', 'White', 'Slate Gray', 'Navy', 'Forest Green', 'Sand', 'Burgundy', 'Sky Blue'];

const pick = <T>(list: readonly T[], index: number): T => list[index % list.length] as T;

/** Whole seconds, so seeded timestamps read like ones a store would write. */
const isoSeconds = (ms: number) => isoTimestamp(Math.floor(ms / 1000) * 1000);

/** A product row as stored (see db.ts): the record, with its JSON columns still text. */
export type SeedProduct = Omit<ProductRecord, 'photos' | 'options'> & { photos: string; options: string };

/** Product `id` (1-based) of the seed, as its database row. */
export function seedProduct(id: number): SeedProduct {
  const k = id - 1;
  const category = pick(CATEGORIES, k);
  const j = Math.floor(k / CATEGORIES.length);
  const noun = pick(category.nouns, j);
  const brand = pick(BRANDS, Math.floor(j / category.nouns.length));
  const series = Math.floor(j / (category.nouns.length * BRANDS.length));
  const title = `${brand} ${noun}${series > 0 ? ` Series ${series + 1}` : ''}`;
  const handle = slugify(title);
  const [low, high] = category.dollars;
  const listPrice = (low + ((k * 7919 + 13) % (high - low + 1))) * 100 + pick([99, 99, 49, 0, 95], k);
  const onSale = k % 4 === 1;
  const featureA = pick(category.features, k);
  const featureB = pick(category.features, k + 2);
  const [traitName, traitValues] = category.trait;
  const tags = [pick(category.tags, k), pick(category.tags, k + 3)];
  if (onSale) tags.push('sale');
  if (k % 7 === 0) tags.push('bestseller');
  // Paths on the store, as a store keeps its own images; the kit makes them absolute.
  const photos = Array.from(
    { length: 1 + (k % 3) },
    (_, index) => `/images/products/${handle}-${index + 1}.jpg`,
  );
  const created = isoSeconds(Date.UTC(2023, 5, 1) + k * 3_600_000);
  return {
    id,
    title,
    body: `The ${title} from our ${category.path[1].toLowerCase()} range. ${featureA}. ${featureB}. ${category.blurb}`,
    summary: `${featureA} · ${featureB}`,
    sku: `${category.code}-${String(id).padStart(5, '0')}`,
    list_price: toDecimal(listPrice),
    promo_price: onSale ? toDecimal(Math.floor((listPrice * 0.8) / 100) * 100 + 99) : null,
    qty_on_hand: k % 11 === 6 ? 0 : ((k * 53) % 180) + 1,
    category: category.path.join(', '),
    labels: tags.join(', '),
    photos: JSON.stringify(photos),
    options: JSON.stringify({ color: pick(COLORS, k + j), [traitName]: pick(traitValues, j) }),
    handle,
    created_at: created,
    updated_at: created,
  };
}

const FIRST_NAMES = [
  'Alice',
  'Ben',
  'Chloe',
  'Diego',
  'Emma',
  'Farid',
  'Grace',
  'Hiro',
  'Ines',
  'Jonas',
  'Keiko',
  'Liam',
  'Maya',
  'Noah',
  'Olivia',
  'Priya',
  'Quinn',
  'Rosa',
  'Samir',
  'Tessa',
];

const LAST_NAMES = [
  'Johnson',
  'Nguyen',
  'Garcia',
  'Okafor',
  'Schmidt',
  'Rossi',
  'Kim',
  'Patel',
  'Dubois',
  'Silva',
  "O'Brien",
  'Novak',
  'Tanaka',
  'Larsen',
  'Haddad',
  'Cohen',
  'Murphy',
  'Ivanova',
  'Mensah',
  'Walker',
];

/** City, state, zip, country, currency, tax rate in basis points. */
const PLACES: [string, string, string, string, string, number][] = [
  ['New York', 'NY', '10001', 'US', 'USD', 888],
  ['Austin', 'TX', '78701', 'US', 'USD', 825],
  ['Seattle', 'WA', '98101', 'US', 'USD', 1025],
  ['Chicago', 'IL', '60601', 'US', 'USD', 1025],
  ['Denver', 'CO', '80202', 'US', 'USD', 881],
  ['Portland', 'OR', '97205', 'US', 'USD', 0],
  ['Miami', 'FL', '33130', 'US', 'USD', 700],
  ['Boston', 'MA', '02108', 'US', 'USD', 625],
  ['San Francisco', 'CA', '94103', 'US', 'USD', 863],
  ['Toronto', 'ON', 'M5V 2T6', 'CA', 'CAD', 1300],
  ['Vancouver', 'BC', 'V6B 1A1', 'CA', 'CAD', 1200],
  ['London', '', 'SW1A 1AA', 'GB', 'GBP', 2000],
  ['Berlin', 'BE', '10115', 'DE', 'EUR', 1900],
];

const STREETS = ['Main St', 'Oak Ave', 'Maple Dr', 'Cedar Ln', 'Park Rd', 'Lake St', 'Hill Ct', 'River Way'];
const PAYMENT_METHODS = ['credit_card', 'paypal', 'credit_card', 'apple_pay', 'bank_transfer', 'credit_card'];

/** Orders run through one year, oldest first, so ids and dates grow together as in a live store. */
const ORDER_SPAN_MS = 365 * 24 * 3_600_000;
const ORDERS_START = Date.UTC(2024, 0, 1);

function orderStatus(k: number, orderCount: number): string {
  if (k % 29 === 11) return 'cancelled';
  if (k % 47 === 5) return 'refunded';
  const age = 1 - k / orderCount;
  if (age < 0.03) return 'pending';
  if (age < 0.07) return 'processing';
  if (age < 0.12) return 'shipped';
  return 'completed';
}

export interface SeedOrderItem {
  product_id: number;
  product_name: string;
  qty: number;
  unit_price: string;
}

/** An order row as stored, with its items; see db.ts for the columns. */
export interface SeedOrder {
  id: number;
  number: string;
  state: string;
  currency_code: string;
  email: string;
  buyer_name: string;
  sub_total: string;
  tax_total: string;
  shipping_cost: string;
  grand_total: string;
  ship_to: string;
  bill_to: string;
  payment_type: string;
  /** Unix epoch seconds. */
  placed_at: number;
  updated_at: string;
  items: SeedOrderItem[];
}

/** What an order line copies from its product. */
export interface ProductSummary {
  id: number;
  title: string;
  price_cents: number;
}

/** Order `id` (1-based) of a seed of `orderCount` orders over the (non-empty) seeded `products`. */
export function seedOrder(id: number, orderCount: number, products: readonly ProductSummary[]): SeedOrder {
  const k = id - 1;
  const customer = (k * 7) % (FIRST_NAMES.length * LAST_NAMES.length);
  const first = pick(FIRST_NAMES, customer);
  const last = pick(LAST_NAMES, Math.floor(customer / FIRST_NAMES.length));
  const [city, state, zip, country, currency, taxRate] = pick(PLACES, customer);
  const home = {
    line1: `${10 + ((customer * 37) % 980)} ${pick(STREETS, customer)}`,
    city,
    region: state,
    postal_code: zip,
    country_code: country,
  };
  const billing =
    customer % 9 === 0 ? { ...home, line1: `${200 + (customer % 50)} ${pick(STREETS, customer + 3)}` } : home;

  const items: SeedOrderItem[] = [];
  let subtotal = 0;
  const used = new Set<number>();
  const itemCount = Math.min(1 + (k % 3), products.length);
  for (let line = 0; line < itemCount; line++) {
    let index = (k * 131 + line * 37) % products.length;
    while (used.has(index)) index = (index + 1) % products.length;
    used.add(index);
    const product = products[index] as ProductSummary;
    const qty = pick([1, 1, 2, 1, 3, 1], k + line);
    items.push({
      product_id: product.id,
      product_name: product.title,
      qty,
      unit_price: toDecimal(product.price_cents),
    });
    subtotal += qty * product.price_cents;
  }
  const spacing = Math.floor(ORDER_SPAN_MS / orderCount);
  const placedMs = ORDERS_START + k * spacing + ((k * 7_919_000) % Math.max(1, Math.floor(spacing / 2)));
  const placed = Math.floor(placedMs / 1000);
  const tax = Math.round((subtotal * taxRate) / 10_000);
  const shipping = subtotal >= 7_500 ? 0 : country === 'US' ? 699 : 1_499;
  return {
    id,
    number: `ORD-${new Date(placedMs).getUTCFullYear()}-${String(id).padStart(5, '0')}`,
    state: orderStatus(k, orderCount),
    currency_code: currency,
    email: `${first}.${last}@example.com`.toLowerCase().replace("'", ''),
    buyer_name: `${first} ${last}`,
    sub_total: toDecimal(subtotal),
    tax_total: toDecimal(tax),
    shipping_cost: toDecimal(shipping),
    grand_total: toDecimal(subtotal + tax + shipping),
    ship_to: JSON.stringify(home),
    bill_to: JSON.stringify(billing),
    payment_type: pick(PAYMENT_METHODS, k),
    placed_at: placed,
    updated_at: isoTimestamp(placed * 1000),
    items,
  };
}

/** Inserts the demo catalog; the caller runs it inside its transaction. */
export function seedCatalog(db: Database.Database, productCount: number, orderCount: number): void {
  const insertProduct = db.prepare(
    `INSERT INTO products (id, title, body, summary, sku, list_price, promo_price, qty_on_hand,
       category, labels, photos, options, handle, created_at, updated_at)
     VALUES (@id, @title, @body, @summary, @sku, @list_price, @promo_price, @qty_on_hand,
       @category, @labels, @photos, @options, @handle, @created_at, @updated_at)`,
  );
  const products: ProductSummary[] = [];
  for (let id = 1; id <= productCount; id++) {
    const product = seedProduct(id);
    insertProduct.run(product);
    products.push({
      id,
      title: product.title,
      price_cents: toCents(product.promo_price ?? product.list_price),
    });
  }

  const insertOrder = db.prepare(
    `INSERT INTO orders (id, number, state, currency_code, email, buyer_name, sub_total, tax_total,
       shipping_cost, grand_total, ship_to, bill_to, payment_type, placed_at, updated_at)
     VALUES (@id, @number, @state, @currency_code, @email, @buyer_name, @sub_total, @tax_total,
       @shipping_cost, @grand_total, @ship_to, @bill_to, @payment_type, @placed_at, @updated_at)`,
  );
  const insertItem = db.prepare(
    `INSERT INTO order_items (order_id, product_id, product_name, qty, unit_price)
     VALUES (?, ?, ?, ?, ?)`,
  );
  for (let id = 1; id <= orderCount; id++) {
    const { items, ...order } = seedOrder(id, orderCount, products);
    insertOrder.run(order);
    for (const item of items) {
      insertItem.run(id, item.product_id, item.product_name, item.qty, item.unit_price);
    }
  }
}
