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
