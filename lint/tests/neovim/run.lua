-- Drives headless Neovim for tests/neovim.rs: the README's snippet (editors/neovim/isolate.lua)
-- attaches the server, the fixture file is opened, and what vim.diagnostic.get() holds is
-- written as JSON, once the findings arrive and again after an edit that removes the global.
local function env(name)
  local value = os.getenv(name)
  assert(value, name .. ' is not set')
  return value
end
local out = {}

local function main()
  out.version = vim.version()
  vim.g.isolate_lsp_cmd = { env('ISOLATE_BIN'), 'lsp' }
  dofile(env('ISOLATE_SNIPPET'))
  vim.cmd('filetype on')
  vim.cmd('edit ' .. vim.fn.fnameescape(env('ISOLATE_FILE')))
  local bufnr = vim.api.nvim_get_current_buf()
  out.filetype = vim.bo[bufnr].filetype
  out.opened_in_time = vim.wait(60000, function()
    return #vim.diagnostic.get(bufnr) > 0
  end, 20)
  out.opened = vim.diagnostic.get(bufnr)
  if vim.lsp.get_clients then -- 0.10+
    out.clients = #vim.lsp.get_clients({ bufnr = bufnr })
  else
    out.clients = vim.tbl_count(vim.lsp.buf_get_clients(bufnr))
  end
  -- The global's line becomes a constant, as if typed.
  local line = tonumber(env('ISOLATE_EDIT_LINE'))
  vim.api.nvim_buf_set_lines(bufnr, line, line + 1, false, { env('ISOLATE_EDIT_TEXT') })
  out.edited_in_time = vim.wait(60000, function()
    return #vim.diagnostic.get(bufnr) == 0
  end, 20)
  out.edited = vim.diagnostic.get(bufnr)
end

local ok, err = pcall(main)
if not ok then
  out.error = tostring(err)
end
local f = assert(io.open(env('ISOLATE_OUT'), 'w'))
f:write(vim.fn.json_encode(out))
f:close()
vim.cmd('qa!')
