// The RMI item CSV import: sends the chosen file as text/csv to the admin API (the same route as API clients use)
// and shows what it answered; on success the list is reloaded.
(() => {
  const form = document.getElementById('rmi-import');
  if (!form) return;
  const result = document.getElementById('rmi-import-result');
  const show = (className, text, rows = []) => {
    const box = document.createElement('div');
    box.className = `message ${className}`;
    box.textContent = text;
    if (rows.length > 0) {
      const list = document.createElement('ul');
      for (const row of rows.slice(0, 20)) {
        const item = document.createElement('li');
        item.textContent = row;
        list.appendChild(item);
      }
      box.appendChild(list);
    }
    result.replaceChildren(box);
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = form.elements.file.files[0];
    if (!file) return;
    show('warning', 'Importing…');
    try {
      const response = await fetch('/api/admin/rmi-items/import', {
        method: 'POST',
        headers: { 'content-type': 'text/csv', 'x-csrf-token': form.dataset.csrf, accept: 'application/json' },
        body: await file.text(),
      });
      const answer = await response.json();
      if (response.ok) {
        show(
          'notice',
          `Imported ${answer.total} rows: ${answer.created} created, ${answer.updated} updated, ${answer.unchanged} unchanged. Reloading the list…`,
        );
        setTimeout(() => location.reload(), 1500);
      } else {
        const rows = (answer.errors || []).map(
          (e) => `${e.row !== undefined ? `row ${e.row}: ` : ''}${e.field ? `${e.field}: ` : ''}${e.message}`,
        );
        show('error', `Nothing was imported: ${answer.detail || answer.title}`, rows);
      }
    } catch {
      show('error', 'The import could not be sent. Check the connection and try again.');
    }
  });
})();
