import { z } from 'zod';

/** Canonical stock states; the documented spellings (`instock`, `available`, `0`, ...) map onto them. */
export const STOCK_STATUSES = ['in_stock', 'out_of_stock', 'on_backorder', 'preorder'] as const;
export type StockStatus = (typeof STOCK_STATUSES)[number];

const text = z.string().min(1);
const amount = z.number();

export const productSchema = z
  .object({
    id: text.describe('Unique id of the product in the store'),
    name: text,
    description: text.optional().describe('HTML or plain text'),
    short_description: text.optional(),
    sku: text.optional(),
    price: amount.optional().describe('Current selling price'),
    regular_price: amount.optional().describe('Price before any discount'),
    sale_price: amount.optional(),
    stock_status: z.enum(STOCK_STATUSES).optional(),
    stock_quantity: z.int().optional(),
    categories: z.array(text).optional(),
    tags: z.array(text).optional(),
    images: z.array(text).optional().describe('Absolute image URLs'),
    attributes: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
    permalink: text.optional().describe('Absolute URL of the product page'),
    slug: text.optional().describe('URL-safe name; HiWelink links {store_base_url}/product/{slug}'),
  })
  .meta({ id: 'Product', title: 'Product' });

export const addressSchema = z
  .object({
    street: text.optional(),
    city: text.optional(),
    state: text.optional(),
    zip: text.optional(),
    country: text.optional(),
  })
  .meta({ id: 'Address', title: 'Address' });

export const orderItemSchema = z
  .object({
    product_id: text.optional(),
    name: text.optional(),
    sku: text.optional(),
    quantity: z.int().optional(),
    price: amount.optional(),
  })
  .meta({ id: 'OrderItem', title: 'OrderItem' });

export const orderSchema = z
  .object({
    id: text,
    order_number: text.optional(),
    status: text.optional(),
    total: amount.optional(),
    subtotal: amount.optional(),
    tax: amount.optional(),
    shipping: amount.optional(),
    currency: text.optional(),
    customer_email: text.optional(),
    customer_name: text.optional(),
    items: z.array(orderItemSchema).optional(),
    shipping_address: addressSchema.optional(),
    billing_address: addressSchema.optional(),
    payment_method: text.optional(),
    created_at: text.optional().describe('ISO 8601, UTC'),
    updated_at: text.optional().describe('ISO 8601, UTC'),
  })
  .meta({ id: 'Order', title: 'Order' });

export type Product = z.infer<typeof productSchema>;
export type Order = z.infer<typeof orderSchema>;
export type OrderItem = z.infer<typeof orderItemSchema>;
export type Address = z.infer<typeof addressSchema>;
