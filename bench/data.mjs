// The in-memory catalogue every benchmark server serves: 1,000 products shaped like the product
// example in the HiWelink Generic API docs. Deterministic, so every server answers the same bytes.

export const API_KEY = 'sk_bench_0123456789abcdef0123456789abcdef';
export const DEFAULT_PER_PAGE = 50;
export const MAX_PER_PAGE = 100;
export const PRODUCT_COUNT = 1000;

const ADJECTIVES = ['Wireless', 'Classic', 'Compact', 'Premium', 'Organic', 'Vintage', 'Smart', 'Rugged'];
const NOUNS = [
  'Headphones',
  'Hoodie',
  'Backpack',
  'Desk Lamp',
  'Water Bottle',
  'Sneakers',
  'Kettle',
  'Watch',
];
const CATEGORIES = [
  ['Electronics', 'Audio'],
  ['Clothing', 'Tops'],
  ['Bags'],
  ['Home', 'Lighting'],
  ['Outdoors'],
  ['Clothing', 'Shoes'],
  ['Home', 'Kitchen'],
  ['Electronics', 'Wearables'],
];
const COLORS = ['Black', 'White', 'Navy', 'Forest Green', 'Sand', 'Red'];

const slugify = (text) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-');

function product(index) {
  const n = index + 1;
  const noun = NOUNS[index % NOUNS.length];
  const name = `${ADJECTIVES[(index >> 3) % ADJECTIVES.length]} ${noun} ${n}`;
  const slug = slugify(name);
  const sku = `SKU-${String(n).padStart(5, '0')}`;
  const regularPrice = 19.99 + (index % 40) * 10;
  const onSale = index % 3 === 0;
  const stockQuantity = index % 7 === 0 ? 0 : (index * 13) % 120;
  return {
    id: `prod_${n}`,
    name,
    description: `${name}: a dependable ${noun.toLowerCase()} built to last, with a two-year warranty and free returns within 30 days.`,
    sku,
    price: onSale ? Math.round(regularPrice * 85) / 100 : regularPrice,
    regular_price: regularPrice,
    stock_status: stockQuantity > 0 ? 'in_stock' : 'out_of_stock',
    stock_quantity: stockQuantity,
    categories: CATEGORIES[index % CATEGORIES.length],
    tags: [noun.toLowerCase(), onSale ? 'sale' : 'new', `batch-${index % 10}`],
    images: [
      `https://yourstore.com/images/${slug}-main.jpg`,
      `https://yourstore.com/images/${slug}-side.jpg`,
    ],
    attributes: {
      color: COLORS[index % COLORS.length],
      material: index % 2 ? 'Cotton' : 'Aluminium',
      weight: '350 g',
    },
    slug,
  };
}

export const PRODUCTS = Array.from({ length: PRODUCT_COUNT }, (_, index) => product(index));

export const ORDERS = Array.from({ length: 20 }, (_, index) => ({
  id: `ord_${index + 1}`,
  order_number: String(1000 + index),
  status: 'completed',
  total: 49.9,
  currency: 'USD',
  created_at: '2026-01-15T10:30:00Z',
}));

// A store's own product table, as an ORM returns its rows: what a store maps by hand (handwritten.mjs
// `mapStoreRow`) or hands to the adapter with `mapping.fields` (servers.mjs). Column names and forms
// are the store's: numeric ids, prices as DECIMAL text, a comma-separated category column, image
// paths relative to the store, a handle for the product page, a Date from a timestamp column.
export const STORE_BASE_URL = 'https://yourstore.com';
export const STORE_ROW_COUNT = 10_000;

function storeRow(index) {
  const n = index + 1;
  const noun = NOUNS[index % NOUNS.length];
  const title = `${ADJECTIVES[(index >> 3) % ADJECTIVES.length]} ${noun} ${n}`;
  const handle = slugify(title);
  const listPrice = 19.99 + (index % 40) * 10;
  const onSale = index % 3 === 0;
  return {
    id: n,
    title,
    body_html: `<p>${title}: a dependable ${noun.toLowerCase()} built to last.</p><ul><li>Two-year warranty</li><li>Free returns within 30 days</li></ul>`,
    summary: `A dependable ${noun.toLowerCase()} with a two-year warranty.`,
    sku: `SKU-${String(n).padStart(5, '0')}`,
    list_price: listPrice.toFixed(2),
    promo_price: onSale ? (Math.round(listPrice * 85) / 100).toFixed(2) : null,
    qty_on_hand: index % 7 === 0 ? 0 : (index * 13) % 120,
    category: CATEGORIES[index % CATEGORIES.length].join(', '),
    tags: [noun.toLowerCase(), onSale ? 'sale' : 'new', `batch-${index % 10}`],
    image_paths: [`/images/${handle}-main.jpg`, `/images/${handle}-side.jpg`],
    attributes: {
      color: COLORS[index % COLORS.length],
      material: index % 2 ? 'Cotton' : 'Aluminium',
      weight: '350 g',
    },
    handle,
    created_at: new Date(Date.UTC(2025, 0, 1) + index * 3_600_000),
  };
}

export const STORE_ROWS = Array.from({ length: STORE_ROW_COUNT }, (_, index) => storeRow(index));

/** Where each documented field is in STORE_ROWS, for the adapter's `mapping.products.fields`. */
export const STORE_FIELDS = {
  id: 'id',
  name: 'title',
  description: 'body_html',
  short_description: 'summary',
  sku: 'sku',
  regular_price: 'list_price',
  sale_price: 'promo_price',
  stock_quantity: 'qty_on_hand',
  categories: 'category',
  tags: 'tags',
  images: 'image_paths',
  attributes: 'attributes',
  slug: 'handle',
};
