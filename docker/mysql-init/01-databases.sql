-- Run once by the mysql image, on the first start with an empty data volume.
-- Each service owns one database. The services also create theirs at start-up when it is missing
-- (and create their tables through migrations), so this script only makes the layout explicit.
CREATE DATABASE IF NOT EXISTS store CHARACTER SET utf8mb4;
CREATE DATABASE IF NOT EXISTS delivery CHARACTER SET utf8mb4;
CREATE DATABASE IF NOT EXISTS orders CHARACTER SET utf8mb4;
-- The partitions of the `partitions` profile (docs/partitions.md): each its own three.
CREATE DATABASE IF NOT EXISTS store_p1 CHARACTER SET utf8mb4;
CREATE DATABASE IF NOT EXISTS delivery_p1 CHARACTER SET utf8mb4;
CREATE DATABASE IF NOT EXISTS orders_p1 CHARACTER SET utf8mb4;
CREATE DATABASE IF NOT EXISTS store_p2 CHARACTER SET utf8mb4;
CREATE DATABASE IF NOT EXISTS delivery_p2 CHARACTER SET utf8mb4;
CREATE DATABASE IF NOT EXISTS orders_p2 CHARACTER SET utf8mb4;
