-- wrk script (bench/support/load.ts): every request carries the header named by $ROTATE_HEADER
-- with the next line of the file $ROTATE_VALUES, cycling, so one wrk run spreads its requests
-- over many keys or tokens instead of repeating one. Other -H headers are not sent.
local name = os.getenv("ROTATE_HEADER")
local values = {}
for line in io.lines(os.getenv("ROTATE_VALUES")) do
  if line ~= "" then values[#values + 1] = line end
end
local i = 0

request = function()
  i = i % #values + 1
  return wrk.format(nil, nil, { [name] = values[i] })
end
