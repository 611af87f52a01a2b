-- Issue 15: the case categories a street opens to the public (public space: lights, roads,
-- litter). Their requests are listed by Open311 without a key, with the place reduced to the
-- grid and no personal data. A top-level code opens its second-level categories.
CREATE TABLE public_case_categories (
    street_id {uuid} NOT NULL REFERENCES areas(id),
    category_code VARCHAR(16) NOT NULL,
    created_at BIGINT NOT NULL,
    created_by VARCHAR(100) NOT NULL,
    PRIMARY KEY (street_id, category_code)
);
