/** A product with every field `hiwelink verify` checks for, under HiWelink's own names. */
export const product = (id: number) => ({
  id: String(id),
  name: `Product ${id}`,
  price: 10,
  slug: `p-${id}`,
  images: ['https://x.test/a.jpg'],
  stock_status: 'in_stock',
});

/** Products 1 to `count`. */
export const catalog = (count: number) => Array.from({ length: count }, (_, index) => product(index + 1));
