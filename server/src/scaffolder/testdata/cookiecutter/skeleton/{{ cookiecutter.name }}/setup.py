name = "{{ cookiecutter.name }}"
tags = {{ cookiecutter.tags | jsonify }}
meta = {{ cookiecutter.meta | dump }}
dollar = ${{ cookiecutter.name }}
values = [{{ values.name }}]
{% if cookiecutter.tags %}has tags{% endif %}
