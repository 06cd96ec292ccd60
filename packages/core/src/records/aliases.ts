/**
 * The alias table of HiWelink's connector documentation: where each canonical field may be found
 * in a store's record, in the order they are tried after the canonical name itself.
 */
export const PRODUCT_ALIASES = {
  id: ['product_id', 'sku'],
  name: ['title', 'product_name'],
  description: ['full_description', 'body'],
  short_description: ['summary', 'excerpt'],
  sku: ['product_sku', 'code'],
  price: ['selling_price', 'current_price'],
  regular_price: ['original_price', 'list_price'],
  sale_price: ['discount_price'],
  stock_status: ['availability'],
  stock_quantity: ['stock', 'inventory', 'quantity'],
  categories: ['category', 'product_categories'],
  tags: ['product_tags', 'labels'],
  images: ['photos', 'gallery', 'image_urls'],
  attributes: ['variations', 'options'],
  permalink: [
    'product_url',
    'url',
    'link',
    'product_link',
    'html_url',
    'web_url',
    'href',
    'page_url',
    'detail_url',
  ],
  slug: ['handle', 'product_slug', 'permalink_slug', 'url_key', 'url_slug', 'seo_slug'],
} as const;

export const ORDER_ALIASES = {
  id: ['order_id', 'order_number'],
  order_number: ['order_no', 'number'],
  status: ['order_status', 'state'],
  total: ['total_amount', 'grand_total', 'order_total'],
  subtotal: ['sub_total'],
  tax: ['tax_total', 'total_tax'],
  shipping: ['shipping_total', 'shipping_cost'],
  currency: ['currency_code'],
  customer_email: ['email', 'billing_email'],
  customer_name: ['customer', 'buyer_name'],
  items: ['line_items', 'products', 'order_items'],
  shipping_address: [],
  billing_address: [],
  payment_method: ['payment_type'],
  created_at: ['date', 'order_date', 'created_date'],
  updated_at: ['modified_at', 'updated_date'],
} as const;

export const ORDER_ITEM_ALIASES = {
  product_id: ['productId', 'product', 'id'],
  name: ['title', 'product_name'],
  sku: ['product_sku', 'code'],
  quantity: ['qty', 'count'],
  price: ['unit_price', 'amount'],
} as const;

export const ADDRESS_ALIASES = {
  street: ['address1', 'line1', 'address', 'street_address'],
  city: ['town', 'locality'],
  state: ['province', 'region', 'county'],
  zip: ['postal_code', 'postcode', 'zip_code'],
  country: ['country_code'],
} as const;

export type ProductField = keyof typeof PRODUCT_ALIASES;
export type OrderField = keyof typeof ORDER_ALIASES;
