/**
 * The operations the benchmark sends, and the results every response must equal.
 * The expected results are built from ./data.ts by plain code (no GraphQL), following the
 * public benchmark's resolver behaviour, so a gateway that assembles a wrong response fails.
 */
import { PRODUCTS, REVIEWS, USERS, INVENTORY, type ReviewRecord } from './data';

/** The public benchmark's query (k6.js), fragments and all. */
export const BENCHMARK_QUERY = `fragment User on User {
  id
  username
  name
}

fragment Review on Review {
  id
  body
}

fragment Product on Product {
  inStock
  name
  price
  shippingEstimate
  upc
  weight
}

query TestQuery {
  users {
    ...User
    reviews {
      ...Review
      product {
        ...Product
        reviews {
          ...Review
          author {
            ...User
            reviews {
              ...Review
              product {
                ...Product
              }
            }
          }
        }
      }
    }
  }
  topProducts {
    ...Product
    reviews {
      ...Review
      author {
        ...User
        reviews {
          ...Review
          product {
            ...Product
          }
        }
      }
    }
  }
}`;

/** Served by the products subgraph alone: gateway overhead against the subgraph called directly. */
export const SINGLE_SUBGRAPH_QUERY = `query TopProducts {
  topProducts(first: 5) {
    upc
    name
    price
    weight
  }
}`;

function product(upc: string) {
  const record = PRODUCTS.find((p) => p.upc === upc);
  const stock = INVENTORY.find((p) => p.upc === upc);
  if (!record || !stock) throw new Error(`no product ${upc} in the data`);
  // shippingEstimate is null: the benchmark's inventory subgraph ignores the required price/weight.
  return { inStock: stock.inStock, name: record.name, price: record.price, shippingEstimate: null, upc, weight: record.weight };
}

const review = (r: ReviewRecord) => ({ id: r.id, body: r.body });
const reviewsOf = (upc: string) => REVIEWS.filter((r) => r.productUpc === upc);
// Every Review.author is user 1 with the first two reviews; a User entity from reviews has them too.
const firstTwo = REVIEWS.slice(0, 2);
const author = () => {
  const user = USERS[0]!;
  return {
    id: user.id,
    username: user.username,
    name: user.name,
    reviews: firstTwo.map((r) => ({ ...review(r), product: product(r.productUpc) })),
  };
};
const productWithReviews = (upc: string) => ({
  ...product(upc),
  reviews: reviewsOf(upc).map((r) => ({ ...review(r), author: author() })),
});

export function expectedBenchmarkResult() {
  return {
    data: {
      users: USERS.map((user) => ({
        id: user.id,
        username: user.username,
        name: user.name,
        reviews: firstTwo.map((r) => ({ ...review(r), product: productWithReviews(r.productUpc) })),
      })),
      topProducts: PRODUCTS.slice(0, 5).map((p) => productWithReviews(p.upc)),
    },
  };
}

export function expectedSingleSubgraphResult() {
  return { data: { topProducts: PRODUCTS.slice(0, 5).map(({ upc, name, price, weight }) => ({ upc, name, price, weight })) } };
}
